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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from melody_env.atomic import atomic_write
from melody_env.checkpoint import CheckpointError

KIND = "rl_tuner"
FORMAT_VERSION = 1
_JSON = "data.json"
_TENSORS = "tensors.safetensors"


def agent_state(agent: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors (networks, Adam's state, random generator) and JSON data (algorithm, hyperparameters,
    counters) of an :class:`~agents.tuner.RLTuner`."""
    tensors = {f"net.{k}": v for k, v in agent.networks.state_dict().items()}
    for i, param in enumerate(agent._q_params):
        for key, value in agent.optimizer.state.get(param, {}).items():
            tensors[f"optim.{i}.{key}"] = torch.as_tensor(value)
    tensors["rng"] = agent._generator.get_state()
    path = agent.nan_checkpoint_path
    data = {
        "algorithm": agent.algorithm,
        "hyperparameters": agent.hyperparameters,
        "settings": {
            "verbose": agent.verbose,
            "tensorboard_log": agent.tensorboard_log,
            "nan_checkpoint_path": None if path is None else str(path),
        },
        "note_rnn_config": asdict(agent.networks.config),
        "melody_length": agent.melody_length,
        "counters": {
            "num_timesteps": agent.num_timesteps,
            "episode_num": agent._episode_num,
            "n_updates": agent._n_updates,
            "grad_credit": agent._grad_credit,
        },
    }
    return tensors, data


def restore_agent_state(agent: Any, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
    """Load what :func:`agent_state` saved into a freshly built agent of the same algorithm and sizes."""
    agent.networks.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    optim_state = agent.optimizer.state_dict()
    for i in range(len(agent._q_params)):
        entries = {k.split(".")[2]: v for k, v in tensors.items() if k.startswith(f"optim.{i}.")}
        if entries:
            optim_state["state"][i] = entries
    agent.optimizer.load_state_dict(optim_state)
    agent._generator.set_state(tensors["rng"])
    counters = data["counters"]
    agent.num_timesteps, agent._episode_num = counters["num_timesteps"], counters["episode_num"]
    agent._n_updates, agent._grad_credit = counters["n_updates"], counters["grad_credit"]


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
    if data.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{file} has format_version {data.get('format_version')!r}, this code reads {FORMAT_VERSION}; "
            "re-create it with this version of rl-tuner"
        )
    return tensors, data


__all__ = ["FORMAT_VERSION", "KIND", "agent_state", "load_agent", "restore_agent_state", "save_agent", "zip_path"]
