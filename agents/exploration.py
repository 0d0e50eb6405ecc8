"""Exploration: ε-greedy on a linear schedule, or Boltzmann sampling from the policy (docs/spec.md §6).

Both act on *policy logits* (see :func:`agents.networks.policy_logits`): the greedy action is their
argmax and the Boltzmann action a sample of their softmax. The action returned is the one taken, and
the one the replay stores (the original stored the argmax even when it explored).

The ε ramp spans a fraction of each ``learn`` call's budget, SB3's ``exploration_fraction``: the
paper's 1.0 → 0.1 over the first 500,000 of 1,000,000 steps is a fraction of 0.5 (docs/spec.md §6),
so every budget finishes exploring by half-way. ``exploration_steps`` fixes the ramp's length instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from sequence_env.sampling import sample_logits

EXPLORATION_MODES = ("egreedy", "boltzmann")
DEFAULT_EXPLORATION_FRACTION = 0.5


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """Value of a linear ramp from ``start`` (step 0) to ``end`` (step ``duration`` and after).

    docs/spec.md §6: ε goes from 1.0 to 0.1 over the first half of training (500,000 of 1,000,000 steps).

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

    :param initial_eps: ε at step 0 (docs/spec.md §6: 1.0).
    :param final_eps: ε after the ramp (docs/spec.md §6: 0.1).
    :param duration: steps of the linear ramp (docs/spec.md §6: 500,000).
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


def check_exploration_schedule(fraction: float | None, steps: int | None) -> tuple[float | None, int | None]:
    """Return the ε ramp's ``(fraction, steps)`` if at most one is given and it is in range, else raise.

    :param fraction: share of ``learn``'s ``total_timesteps`` in [0, 1] (``None``: 0.5 unless ``steps``).
    :param steps: fixed ramp length in environment steps, >= 0 (``None``: use the fraction).
    """
    if fraction is not None and steps is not None:
        raise ValueError(
            f"pass exploration_fraction ({fraction}) or exploration_steps ({steps}), not both: the first scales "
            "the ε ramp with each learn() budget, the second fixes its length"
        )
    number = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
    if fraction is not None and not (number and 0.0 <= fraction <= 1.0):
        raise ValueError(f"exploration_fraction must be a number in [0, 1] (paper: 0.5), got {fraction!r}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
        raise ValueError(f"exploration_steps must be an int >= 0, got {steps!r}")
    return (None if fraction is None else float(fraction)), steps


def exploration_duration(total_timesteps: int, fraction: float | None, steps: int | None) -> int:
    """Length of the ε ramp: ``steps`` when given, else ``fraction`` (default 0.5) of ``total_timesteps``.

    :param total_timesteps: the step count ``learn`` trains up to (SB3: including earlier steps when
        ``reset_num_timesteps=False``).
    """
    if steps is not None:
        return steps
    return int((DEFAULT_EXPLORATION_FRACTION if fraction is None else fraction) * total_timesteps)


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


__all__ = [
    "DEFAULT_EXPLORATION_FRACTION",
    "EXPLORATION_MODES",
    "Boltzmann",
    "EpsilonGreedy",
    "check_exploration_schedule",
    "exploration_duration",
    "linear_schedule",
    "make_exploration",
]
