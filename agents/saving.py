"""Agent checkpoints: one zip file holding ``data.json`` and ``tensors.safetensors``, never pickle.

SB3's callbacks name checkpoints ``.../rl_model_1000_steps.zip`` or ``.../best_model`` and call
``model.save(path)``; as in SB3, a path without a suffix gets ``.zip``. The file is written to a
temporary name beside the target and renamed into place, so an interrupted save keeps the previous
checkpoint whole.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from agents.adaptive_c import AdaptiveC
from agents.step.stacked import PARAMETER_NAMES
from sequence_env.atomic import atomic_write
from sequence_env.checkpoint import CheckpointError
from sequence_env.lstm import LSTMConfig, LSTMPrior
from sequence_env.prior import prior_class_name, prior_from_config
from sequence_env.task import SequenceTask, make_task

KIND = "rl_tuner"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # 1: Adam's state per parameter tensor; 3: the prior and task by name
_JSON = "data.json"
_TENSORS = "tensors.safetensors"


def agent_state(agent: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors (networks, Adam's state, random generator) and JSON data (algorithm, hyperparameters,
    counters) of an :class:`~agents.tuner.RLTuner`."""
    tensors = {f"net.{k}": v for k, v in agent.networks.state_dict().items()}
    tensors.update({f"adam.{k}": v for k, v in agent.adam.state_dict().items()})
    tensors["rng"] = agent._generator.get_state()
    path = agent.nan_checkpoint_path
    data = {
        "algorithm": agent.algorithm,
        "hyperparameters": agent.hyperparameters,
        "settings": {
            "verbose": agent.verbose,
            "tensorboard_log": agent.tensorboard_log,
            "nan_checkpoint_path": None if path is None else str(path),
            "c": "auto" if isinstance(agent.c_controller, AdaptiveC) else agent.c,
            "target_kl": getattr(agent.c_controller, "target_kl", None),
            "clip": agent.clip,
            "bootstrap_last_note": agent.bootstrap_last_note,
            "g_trains_reward_rnn": agent.g_trains_reward_rnn,
        },
        "c_controller": agent.c_controller.state_dict(),
        **prior_and_task(agent.networks.reward_rnn, agent.task, agent.max_length),
        "counters": {
            "num_timesteps": agent.num_timesteps,
            "episode_num": agent._episode_num,
            "n_updates": agent._n_updates,
            "grad_credit": agent._grad_credit,
        },
    }
    return tensors, data


LEGACY_TASK = {"name": "melody", "module": "melody_env"}
"""The task of files written before tasks were saved (they hold ``note_rnn_config``): melodies."""


def prior_and_task(prior: Any, task: SequenceTask | None, max_length: int | None) -> dict[str, Any]:
    """What a saved agent records to rebuild its prior's network and find its task again (no pickle)."""
    described = None
    if task is not None:
        described = {"name": task.name, "module": task.module, "options": task.options}
    return {
        "prior": {"class": prior_class_name(prior), "config": prior.config_dict()},
        "task": described,
        "max_length": max_length,
    }


def prior_of(data: dict[str, Any]) -> Any:
    """An untrained network of the saved prior's class and shape (its weights come from the tensors)."""
    if "prior" in data:
        return prior_from_config(data["prior"]["class"], data["prior"]["config"])
    config = data["note_rnn_config"]  # files of earlier versions: a one-layer LSTM over the melody's classes
    return LSTMPrior(LSTMConfig(vocab_size=config["num_classes"], hidden_size=config["hidden_size"], num_layers=1))


def task_of(data: dict[str, Any]) -> SequenceTask | None:
    """The saved agent's task, rebuilt by name (``None`` when it was saved without one or its package is missing)."""
    described = data.get("task", None if "prior" in data else LEGACY_TASK)
    if not described or not described.get("name"):
        return None
    options = dict(described.get("options") or {})
    if "melody_length" in data and described is LEGACY_TASK:
        options["melody_length"] = data["melody_length"]
    try:
        return make_task(described["name"], described.get("module"), **options)
    except (ImportError, ValueError, TypeError):
        return None


def restore_agent_state(agent: Any, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
    """Load what :func:`agent_state` saved into a freshly built agent of the same algorithm and sizes."""
    agent.networks.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    agent.adam.load_state_dict(_adam_tensors(tensors))
    if "c_controller" in data:
        agent.c_controller.load_state_dict(data["c_controller"])
    agent._generator.set_state(tensors["rng"])
    counters = data["counters"]
    agent.num_timesteps, agent._episode_num = counters["num_timesteps"], counters["episode_num"]
    agent._n_updates, agent._grad_credit = counters["n_updates"], counters["grad_credit"]


def _adam_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adam's flat state from a checkpoint; format 1 kept one entry per parameter tensor (``optim.<i>.<key>``)."""
    if "adam.exp_avg" in tensors:
        return {k[5:]: v for k, v in tensors.items() if k.startswith("adam.")}
    if "optim.0.exp_avg" not in tensors:  # saved before the first gradient step
        size = sum(v.numel() for k, v in tensors.items() if k.startswith("net.q_net."))
        return {"exp_avg": torch.zeros(size), "exp_avg_sq": torch.zeros(size), "step": torch.zeros(1)}
    count = len(PARAMETER_NAMES)
    return {
        "exp_avg": torch.cat([tensors[f"optim.{i}.exp_avg"].reshape(-1) for i in range(count)]),
        "exp_avg_sq": torch.cat([tensors[f"optim.{i}.exp_avg_sq"].reshape(-1) for i in range(count)]),
        "step": tensors["optim.0.step"].reshape(1),
    }


def zip_path(path: str | os.PathLike) -> Path:
    """``path`` with ``.zip`` appended when it has no suffix (SB3's convention)."""
    path = Path(path)
    return path if path.suffix else path.with_suffix(".zip")


def save_agent(path: str | os.PathLike, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON-serialisable ``data`` into one zip file, atomically.

    :param path: target file; ``.zip`` is appended when it has no suffix; folders are created.
    :param tensors: name → tensor (saved as contiguous CPU copies).
    :param data: JSON-serialisable description (algorithm, hyperparameters, counters).
    :return: the path written.
    """
    target = zip_path(path)
    payload = save_tensors({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})
    text = json.dumps({"kind": KIND, "format_version": FORMAT_VERSION, **data}, indent=2, sort_keys=True)
    with atomic_write(target) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_JSON, text)
        archive.writestr(_TENSORS, payload)
    return target


def load_agent(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by :func:`save_agent`.

    :param path: the file, with or without its ``.zip`` suffix.
    :raises CheckpointError: missing or damaged file, another kind or format version.
    """
    file = Path(path)
    if not file.is_file():
        file = zip_path(path)
    if not file.is_file():
        raise CheckpointError(f"agent checkpoint {path} does not exist; check the path or call save() first")
    try:
        with zipfile.ZipFile(file) as archive:
            data = json.loads(archive.read(_JSON).decode("utf-8"))
            tensors = load_tensors(archive.read(_TENSORS))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError, SafetensorError) as exc:
        raise CheckpointError(f"{file} is not a readable RLTuner checkpoint ({exc}); save the agent again") from exc
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind != KIND:
        raise CheckpointError(f"{file} is not an RLTuner checkpoint (kind {kind!r}); pass the right file")
    if data.get("format_version") not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{file} has format_version {data.get('format_version')!r}, this code reads {READABLE_VERSIONS}; "
            "re-create it with this version of rl-tuner"
        )
    return tensors, data


__all__ = [
    "FORMAT_VERSION",
    "KIND",
    "LEGACY_TASK",
    "agent_state",
    "load_agent",
    "prior_and_task",
    "prior_of",
    "restore_agent_state",
    "save_agent",
    "task_of",
    "zip_path",
]
