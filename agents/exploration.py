"""Exploration: ε-greedy on a linear schedule, or Boltzmann sampling from the policy (SPEC §6).

Both act on *policy logits* (see :func:`agents.policies.policy_logits`): the greedy action is their
argmax and the Boltzmann action a sample of their softmax. The action returned is the one taken, and
the one the replay stores (the original stored the argmax even when it explored).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from melody_env.sampling import sample_logits

EXPLORATION_MODES = ("egreedy", "boltzmann")


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """Value of a linear ramp from ``start`` (step 0) to ``end`` (step ``duration`` and after).

    SPEC §6: ε goes from 1.0 to 0.1 over the first 500,000 environment steps.

    :param step: environment steps taken so far (``num_timesteps``).
    :param start: value at step 0.
    :param end: value from ``duration`` on.
    :param duration: length of the ramp in steps (0 → ``end`` at once).
    """
    if duration <= 0 or step >= duration:
        return float(end)
    return float(start + (end - start) * step / duration)


@dataclass(frozen=True)
class EpsilonGreedy:
    """With probability ε a uniformly random action, otherwise the argmax of the policy logits.

    :param initial_eps: ε at step 0 (SPEC §6: 1.0).
    :param final_eps: ε after the ramp (SPEC §6: 0.1).
    :param duration: steps of the linear ramp (SPEC §6: 500,000).
    """

    initial_eps: float = 1.0
    final_eps: float = 0.1
    duration: int = 500_000

    def rate(self, step: int) -> float:
        """ε after ``step`` environment steps."""
        return linear_schedule(step, self.initial_eps, self.final_eps, self.duration)

    def select(self, logits: Tensor, step: int, generator: torch.Generator) -> Tensor:
        """Actions (B,) int64 for policy logits (B, A) at environment step ``step``."""
        greedy = logits.argmax(dim=-1)
        eps = self.rate(step)
        if eps <= 0.0:
            return greedy
        batch, num_actions = logits.shape
        explore = torch.rand(batch, generator=generator) < eps
        random_actions = torch.randint(num_actions, (batch,), generator=generator)
        return torch.where(explore, random_actions, greedy)


@dataclass(frozen=True)
class Boltzmann:
    """Sample each action from ``softmax(logits / temperature)``.

    For Ψ and G this is their own stochastic policy (Eq. 12, 14) used for exploration, as the paper
    suggests; for Q it is the softmax of the action values.

    :param temperature: softmax temperature (> 0).
    """

    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"Boltzmann temperature must be > 0, got {self.temperature}")

    def rate(self, step: int) -> float:
        """The temperature (logged as the exploration rate)."""
        return float(self.temperature)

    def select(self, logits: Tensor, step: int, generator: torch.Generator) -> Tensor:
        """Actions (B,) int64 sampled from the tempered softmax of ``logits`` (B, A)."""
        return sample_logits(logits, self.temperature, generator)


def make_exploration(
    mode: str, initial_eps: float, final_eps: float, duration: int, temperature: float
) -> EpsilonGreedy | Boltzmann:
    """Build the exploration strategy named ``mode`` (``"egreedy"`` or ``"boltzmann"``)."""
    if mode == "egreedy":
        if not (0.0 <= final_eps <= 1.0 and 0.0 <= initial_eps <= 1.0):
            raise ValueError(f"ε must lie in [0, 1], got initial {initial_eps} and final {final_eps}")
        return EpsilonGreedy(initial_eps, final_eps, int(duration))
    if mode == "boltzmann":
        return Boltzmann(temperature)
    raise ValueError(f"exploration must be one of {EXPLORATION_MODES}, got {mode!r}")


__all__ = ["EXPLORATION_MODES", "Boltzmann", "EpsilonGreedy", "linear_schedule", "make_exploration"]
