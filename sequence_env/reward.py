"""The environment's reward: the Note RNN prior plus the music-theory rules (paper Eq. 3, docs/spec.md §5)."""

from __future__ import annotations

import math

import numpy as np

REWARD_MODES = ("full", "rules", "prior")


def compose_reward(
    log_prior: float | np.ndarray,
    music_theory: float | np.ndarray,
    c: float = 0.5,
    mode: str = "full",
) -> float | np.ndarray:
    """Reward of choosing note ``a`` in state ``s`` (Eq. 3): ``r(s, a) = log p(a|s) + r_MT(a, s) / c``.

    :param log_prior: ``log p(a|s)`` from the frozen Reward RNN (temperature 1), scalar or ``(N,)``.
    :param music_theory: ``r_MT(a, s)``, the (weighted) sum of the rules of docs/spec.md §4, same shape.
    :param c: the weight of the prior against the rules (paper: 0.5; the original's ``reward_scaler`` is
        ``1 / c``).
    :param mode: ``"full"`` (Eq. 3, for Q and Ψ learning), ``"rules"`` (``r_MT / c`` only, for G learning and
        the RL-only baseline, docs/spec.md §5) or ``"prior"`` (``log p(a|s)`` only).
    :return: the reward, with the shape of the inputs.
    """
    if mode == "full":
        return log_prior + music_theory / c
    if mode == "rules":
        return music_theory / c
    if mode == "prior":
        return log_prior
    raise ValueError(f"reward_mode must be one of {REWARD_MODES}, got {mode!r}")


def check_c(c: float) -> float:
    """Return ``c`` as a float, or raise ``ValueError`` if it is not a finite number > 0."""
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)):
        raise TypeError(f"c must be a number > 0 (paper: 0.5), got {type(c).__name__}")
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"c must be a finite number > 0 (paper: 0.5), got {c}")
    return float(c)


def check_reward_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`REWARD_MODES`, else raise ``ValueError``."""
    if mode not in REWARD_MODES:
        raise ValueError(f"reward_mode must be one of {REWARD_MODES}, got {mode!r}")
    return mode


__all__ = ["REWARD_MODES", "check_c", "check_reward_mode", "compose_reward"]
