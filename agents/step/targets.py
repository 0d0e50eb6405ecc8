"""TD targets of the paper's three losses, one pure function per equation (docs/spec.md §5).

Each function returns the regression target ``y`` of its loss ``(y − V(s, a; θ))²`` for a batch of
transitions. ``next_values`` are the target network's values at the next state s' (``θ⁻``), ``done`` marks
transitions whose action was the melody's last note: the state after it is terminal, so nothing is
bootstrapped (the original implementation forgot this).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sequence_env.reward import compose_reward

REWARD_MODE = {"q": "full", "psi": "full", "g": "rules", "rl_only": "rules"}
"""The reward each algorithm learns from (docs/spec.md §5): Eq. 3 for Q and Ψ, ``rMT / c`` for G and RL-only."""


def _bootstrap(value: Tensor, done: Tensor, gamma: float) -> Tensor:
    """``γ · value`` where s' is not terminal, exactly 0 where it is (even if ``value`` is not finite there)."""
    return gamma * torch.where(done.bool(), torch.zeros_like(value), value)


def td_reward(algorithm: str, log_prior: Tensor, reward_terms: Tensor, c: float | Tensor) -> Tensor:
    """The reward ``algorithm`` learns from, rebuilt from its parts (Eq. 3, docs/spec.md §5).

    Q and Ψ: ``r = log p(a|s) + rMT(a, s)/c``; G and RL-only: ``r = rMT(a, s)/c`` (G meets the prior in its
    target instead). The replay keeps the two parts apart, so a sampled batch uses the current c.

    :param log_prior: (..., B) log p(a|s) from the frozen Reward RNN.
    :param reward_terms: (..., B) r (rMT for melodies).
    :param c: the weight of the rules, a number or a tensor broadcasting against the parts (e.g. (K, 1)).
    """
    return compose_reward(log_prior, reward_terms, c, REWARD_MODE[algorithm])


def q_target(reward: Tensor, next_q: Tensor, done: Tensor, gamma: float) -> Tensor:
    """Q-learning target of Eq. 4: ``y = r + γ · max_a' Q⁻(s', a')``.

    With the env's reward ``r = log p(a|s) + rMT(a, s)/c`` (Eq. 3) this is RL Tuner's Q target; with
    ``r = rMT/c`` it is the RL-only baseline's.

    :param reward: (B,) rewards r(s, a).
    :param next_q: (B, A) target-network values Q⁻(s', ·).
    :param done: (B,) True where s' is terminal (no bootstrap).
    :param gamma: discount γ (docs/spec.md §6: 0.5).
    :return: (B,) targets.
    """
    return reward + _bootstrap(next_q.max(dim=-1).values, done, gamma)


def psi_target(reward: Tensor, next_psi: Tensor, done: Tensor, gamma: float) -> Tensor:
    """Generalised Ψ-learning target of Eq. 11: ``y = r + γ · log Σ_a' exp Ψ⁻(s', a')``.

    ``r = log p(a|s) + rMT(a, s)/c``; the policy is ``π(a|s) ∝ exp Ψ(s, a)`` (Eq. 12).

    :param reward: (B,) rewards r(s, a).
    :param next_psi: (B, A) target-network values Ψ⁻(s', ·).
    :param done: (B,) True where s' is terminal (no bootstrap).
    :param gamma: discount γ.
    :return: (B,) targets.
    """
    return reward + _bootstrap(torch.logsumexp(next_psi, dim=-1), done, gamma)


def g_target(reward: Tensor, next_g: Tensor, next_log_prior: Tensor, done: Tensor, gamma: float) -> Tensor:
    """G-learning target of Eq. 13: ``y = r + γ · log Σ_a' exp(log p(a'|s') + G⁻(s', a'))``.

    ``r = rMT(a, s)/c`` only; the prior ``p`` (the frozen Reward RNN) enters through this target and the
    policy ``π(a|s) ∝ p(a|s) · exp G(s, a)`` (Eq. 14).

    :param reward: (B,) rewards rMT/c.
    :param next_g: (B, A) target-network values G⁻(s', ·).
    :param next_log_prior: (B, A) log p(·|s') from the Reward RNN.
    :param done: (B,) True where s' is terminal (no bootstrap).
    :param gamma: discount γ.
    :return: (B,) targets.
    """
    return reward + _bootstrap(torch.logsumexp(next_log_prior + next_g, dim=-1), done, gamma)


__all__ = ["REWARD_MODE", "g_target", "psi_target", "q_target", "td_reward"]
