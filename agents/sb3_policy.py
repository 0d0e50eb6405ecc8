"""RLTuner's side of SB3's algorithm interface: ``policy``, ``device``, schedules and parameter dicts.

SB3-family tools (rl-zoo3's ``ExperimentManager``, sbx, sb3-contrib) build an algorithm as
``Algo(policy, env, learning_rate=..., seed=..., verbose=..., device=..., tensorboard_log=...)`` and
read ``model.policy``, ``model.device`` and ``model.get_parameters()``. RL Tuner has one policy, the
recurrent Q network initialised from the prior (docs/spec.md §5), so ``policy`` only names it:
:data:`POLICY_ALIASES` are the names SB3 and sb3-contrib give policies on ``Dict`` observations, all
meaning :class:`RLTunerPolicy`. The networks are 100-cell LSTMs stepped a few notes at a time, so they
run on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.utils import FloatSchedule
from torch import nn

POLICY_NAMES = ("RLTunerPolicy", "MultiInputLstmPolicy", "MultiInputPolicy")
PARAMETER_NAMES = ("policy", "policy.optimizer")


class RLTunerPolicy(nn.Module):
    """``tuner.policy``: the tuner's networks (Q, target, frozen Reward RNN) with SB3's policy methods.

    Built by the tuner, not by users; its state dict is the networks', and ``optimizer`` is the tuner's
    Adam state, so ``get_parameters()`` has SB3's keys ``"policy"`` and ``"policy.optimizer"``.

    :param tuner: the :class:`~agents.tuner.RLTuner` it belongs to.
    """

    def __init__(self, tuner: Any) -> None:
        super().__init__()
        self.networks = tuner.networks
        self._tuner = tuner

    @property
    def optimizer(self) -> Any:
        """The tuner's Adam state (``state_dict``/``load_state_dict``)."""
        return self._tuner.optimizer

    @property
    def observation_space(self) -> spaces.Space:
        """The env's observation space."""
        return self._tuner.observation_space

    @property
    def action_space(self) -> spaces.Space:
        """``Discrete(38)``: the next note class."""
        return self._tuner.action_space

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: tuple[np.ndarray, np.ndarray] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """The tuner's :meth:`~agents.tuner.RLTuner.predict`."""
        return self._tuner.predict(observation, state, episode_start, deterministic)

    def set_training_mode(self, mode: bool) -> None:
        """Train or eval mode of the Q network (SB3 API; it has no dropout or batch norm)."""
        self.networks.q_net.train(mode)


def check_policy(policy: str | type, policy_kwargs: dict[str, Any] | None) -> type[RLTunerPolicy]:
    """The policy class named by ``policy`` (one of :data:`POLICY_NAMES` or the class), else ``ValueError``.

    :param policy_kwargs: must be empty: the policy is the prior's architecture.
    """
    if policy is not RLTunerPolicy and policy not in POLICY_NAMES:
        raise ValueError(
            f"policy must be one of {POLICY_NAMES} (all the recurrent Q network initialised from the prior), "
            f"got {policy!r}"
        )
    if policy_kwargs:
        raise ValueError(
            f"policy_kwargs {sorted(policy_kwargs)} cannot apply: the Q network is a copy of the prior; "
            "pass prior= (or build the env from another prior) to change it"
        )
    return RLTunerPolicy


def check_device(device: torch.device | str) -> torch.device:
    """``torch.device("cpu")`` for ``"auto"`` or ``"cpu"``; any other device raises ``ValueError``."""
    if str(device) not in ("auto", "cpu"):
        raise ValueError(
            f"RLTuner runs on the CPU (its networks are tiny LSTMs); pass device='cpu' or 'auto', got {device!r}"
        )
    return torch.device("cpu")


def learning_rate_schedule(learning_rate: float | Callable[[float], float]) -> FloatSchedule:
    """SB3's schedule of ``learning_rate``: a constant, or a callable of the progress remaining (1 → 0).

    :raises ValueError: neither a number nor a callable.
    """
    if isinstance(learning_rate, bool) or not (isinstance(learning_rate, (int, float)) or callable(learning_rate)):
        raise ValueError(
            f"learning_rate must be a number or a schedule (a callable of the progress remaining, 1 → 0), "
            f"got {learning_rate!r}"
        )
    return FloatSchedule(learning_rate)


def load_parameters(tuner: Any, params: dict[str, dict], exact_match: bool) -> None:
    """Load SB3 parameter dicts (``get_parameters()`` of an RLTuner) into ``tuner``.

    :param params: ``{"policy": the networks' state dict, "policy.optimizer": Adam's}`` or a part of it.
    :param exact_match: both keys and every tensor of the policy are required.
    :raises ValueError: unknown or missing names.
    """
    unknown = set(params) - set(PARAMETER_NAMES)
    if unknown:
        raise ValueError(f"unknown parameter names {sorted(unknown)}; an RLTuner has {PARAMETER_NAMES}")
    if exact_match and set(params) != set(PARAMETER_NAMES):
        raise ValueError(
            f"names of parameters do not match the agent's: expected {PARAMETER_NAMES}, got {sorted(params)}; "
            "pass exact_match=False to load a part"
        )
    policy = tuner.policy
    if "policy" in params:
        policy.load_state_dict(params["policy"], strict=exact_match)
    if "policy.optimizer" in params:
        policy.optimizer.load_state_dict(params["policy.optimizer"])


__all__ = [
    "PARAMETER_NAMES",
    "POLICY_NAMES",
    "RLTunerPolicy",
    "check_device",
    "check_policy",
    "learning_rate_schedule",
    "load_parameters",
]
