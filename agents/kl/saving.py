"""What a KLPPO checkpoint holds, in the project's agent file (:mod:`agents.saving`: zip of JSON + safetensors).

The tensors are the actor-critic (with the value statistics), Adam's state and the random generator;
the JSON names the agent (``"agent": "kl_ppo"``, so RLTuner and KLPPO files are told apart), its
hyperparameters, counters and the c controller's state.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from agents.adaptive_c import controller_from_state
from agents.saving import load_agent, prior_and_task, prior_of, task_of
from agents.vec_env import n_envs_for
from sequence_env.checkpoint import CheckpointError

AGENT = "kl_ppo"
C_SETTINGS = frozenset({"c", "target_kl", "c_init", "c_horizon", "c_k_p"})  # load(..., c=...) starts c anew


def kl_agent_state(agent: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the JSON data of a :class:`agents.KLPPO`."""
    tensors = {f"net.{k}": v for k, v in agent.policy.state_dict().items()}
    for i, param in enumerate(_parameters(agent.optimizer)):
        for key, value in agent.optimizer.state.get(param, {}).items():
            tensors[f"optim.{i}.{key}"] = torch.as_tensor(value)
    tensors["rng"] = agent._generator.get_state()
    path = agent.nan_checkpoint_path
    data = {
        "agent": AGENT,
        "policy": agent.policy_name,
        "algorithm": agent.algorithm,
        "hyperparameters": agent.hyperparameters,
        "settings": {
            "verbose": agent.verbose,
            "tensorboard_log": agent.tensorboard_log,
            "nan_checkpoint_path": None if path is None else str(path),
            "torch_threads": agent.torch_threads,
        },
        **prior_and_task(agent.policy.prior, agent.task, agent.max_length),
        "counters": {
            "num_timesteps": agent.num_timesteps,
            "episode_num": agent._episode_num,
            "n_updates": agent._n_updates,
        },
        "c_controller": agent.c_controller.state_dict(),
    }
    return tensors, data


def restore_kl_agent_state(agent: Any, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
    """Load what :func:`kl_agent_state` saved into a freshly built agent of the same algorithm and sizes."""
    agent.policy.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    optim_state = agent.optimizer.state_dict()
    for i in range(len(_parameters(agent.optimizer))):
        entries = {k.split(".")[2]: v for k, v in tensors.items() if k.startswith(f"optim.{i}.")}
        if entries:
            optim_state["state"][i] = entries
    agent.optimizer.load_state_dict(optim_state)
    agent._generator.set_state(tensors["rng"])
    counters = data["counters"]
    agent.num_timesteps, agent._episode_num = counters["num_timesteps"], counters["episode_num"]
    agent._n_updates = counters["n_updates"]
    agent.c_controller = controller_from_state(data["c_controller"])


def load_kl_agent(cls: type, path: str | os.PathLike, env: Any, overrides: dict[str, Any]) -> Any:
    """Rebuild the :class:`agents.KLPPO` (``cls``) saved in ``path``; see :meth:`agents.KLPPO.load`."""
    tensors, data = load_agent(path)
    check_kl_checkpoint(path, data)
    try:
        kwargs = {**data["hyperparameters"], **data["settings"], **overrides}
        if "n_envs" not in overrides:  # a saved n_envs follows only to the forms it sizes
            kwargs["n_envs"] = n_envs_for(env, kwargs["n_envs"])
        if overrides.get("c", "auto") != "auto" and "target_kl" not in overrides:
            kwargs["target_kl"] = None  # a number for c fixes it: the saved target has no role
        max_length = data.get("max_length", data.get("melody_length"))
        prior = prior_of(data)  # the frozen prior, as saved
        prior.load_state_dict(
            {k.removeprefix("net.prior."): v for k, v in tensors.items() if k.startswith("net.prior.")}
        )
        agent = cls(
            data["policy"],
            env,
            algorithm=data["algorithm"],
            prior=prior,
            max_length=max_length,
            **kwargs,
        )
        if agent.max_length != max_length:
            lengths = f"{agent.max_length}-token episodes, the agent {max_length}-token ones"
            raise ValueError(f"the env writes {lengths}")
        controller = agent.c_controller
        with agent._threads():
            restore_kl_agent_state(agent, tensors, data)
        if C_SETTINGS & set(overrides):  # c set anew by the caller, not continued from the file
            agent.c_controller = controller
        if agent.task is None:
            agent.task = task_of(data)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not describe a KLPPO this code can rebuild ({exc})") from exc
    agent._good_state.capture()
    return agent


def check_kl_checkpoint(path: str | os.PathLike, data: dict[str, Any]) -> None:
    """Refuse an agent file that is not a KLPPO's (an RLTuner's, say), naming the loader to use."""
    if data.get("agent") != AGENT:
        raise CheckpointError(f"{path} is an RLTuner checkpoint, not a KLPPO one; load it with agents.RLTuner.load")


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


__all__ = ["AGENT", "C_SETTINGS", "check_kl_checkpoint", "kl_agent_state", "load_kl_agent", "restore_kl_agent_state"]
