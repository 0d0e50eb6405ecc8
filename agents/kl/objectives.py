"""The KL-regularised policy-gradient objective (paper Eq. 9) in small functions: reward, GAE, RLOO, PPO clip.

Eq. 9 maximises ``E_π[Σ_t r(s_t, a_t)/c − KL[π(·|s_t) ‖ p(·|s_t)]]``. On sampled episodes the KL of
each state is estimated by the token actually drawn, ``log π(a_t|s_t) − log p(a_t|s_t)``, so every token
earns :func:`kl_penalised_reward` and the objective is the plain sum of rewards over the episode (the
per-token KL penalty of RLHF's PPO and RLOO, with ``1/c`` in the place of their KL coefficient β).

All functions take whole episodes, ``(M, T)`` tensors whose row m is episode m and column t its token t,
so the last token is terminal and nothing is bootstrapped. GAE is written here rather than taken from
SB3's ``RolloutBuffer.compute_returns_and_advantage``: that buffer keeps flat ``(n_steps, n_envs)``
transitions and samples minibatches of single transitions, while the LSTM needs minibatches of whole
episodes; sb3-contrib's recurrent buffer stores every step's LSTM state and pads sequences, which
fixed-length episodes run from their start do not need. Over ``(M, T)`` the recursion is a few lines.
"""

from __future__ import annotations

import torch
from torch import Tensor


def kl_penalised_reward(reward_terms: Tensor, log_prior: Tensor, log_policy: Tensor, c: float) -> Tensor:
    """Per-token reward of Eq. 9: ``r_t = r(s_t, a_t) / c + log p(a_t|s_t) − log π(a_t|s_t)``.

    Summed over an episode its expectation is Eq. 9's ``Σ_t r/c − KL[π ‖ p]``.

    :param reward_terms: the reward terms r of each token (rMT for melodies, the env's ``info``), any shape.
    :param log_prior: ``log p(a_t|s_t)`` under the prior (``info["log_prior"]``), same shape.
    :param log_policy: ``log π(a_t|s_t)`` of the policy that drew the token, same shape.
    :param c: weight of the prior against the rules (paper: 0.5).
    """
    return reward_terms / c + log_prior - log_policy


def gae_advantages(rewards: Tensor, values: Tensor, gamma: float, gae_lambda: float) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over whole episodes.

    ``δ_t = r_t + γ V(s_{t+1}) − V(s_t)`` with ``V(s_T) = 0`` (the last token ends the episode), and
    ``A_t = δ_t + γ λ A_{t+1}``; the value targets are ``A_t + V(s_t)``.

    :param rewards: ``(M, T)`` per-token rewards. :param values: ``(M, T)`` critic values ``V(s_t)``.
    :param gamma: discount γ (1 for Eq. 9's undiscounted sum). :param gae_lambda: λ.
    :return: ``(advantages (M, T), returns (M, T))``.
    """
    if rewards.shape != values.shape or rewards.ndim != 2:
        raise ValueError(
            f"rewards and values must both be (M, T), got {tuple(rewards.shape)} and {tuple(values.shape)}"
        )
    next_values = torch.cat([values[:, 1:], torch.zeros_like(values[:, :1])], dim=1)  # V(s_{t+1}), 0 after the end
    deltas = rewards + gamma * next_values - values
    advantages = torch.empty_like(deltas)
    running = torch.zeros_like(deltas[:, 0])
    for t in range(deltas.shape[1] - 1, -1, -1):
        running = deltas[:, t] + gamma * gae_lambda * running
        advantages[:, t] = running
    return advantages, advantages + values


def rloo_advantages(returns: Tensor, k: int) -> Tensor:
    """REINFORCE leave-one-out advantages (Kool et al. 2019; Ahmadian et al. 2024, TRL's RLOO).

    Episodes ``k·g .. k·g + k − 1`` share a primer (group g); each one's baseline is the mean return of
    the other ``k − 1``: ``A_i = R_i − (Σ_{j in g} R_j − R_i) / (k − 1)``.

    :param returns: ``(M,)`` episode returns ``Σ_t r_t``, groups of ``k`` consecutive episodes.
    :param k: episodes per primer, ``>= 2``.
    :return: ``(M,)`` advantages.
    """
    if k < 2 or returns.ndim != 1 or returns.shape[0] % k:
        raise ValueError(f"returns must be (M,) with M a multiple of k >= 2, got shape {tuple(returns.shape)}, k={k}")
    groups = returns.reshape(-1, k)  # (M/k, k)
    baseline = (groups.sum(dim=1, keepdim=True) - groups) / (k - 1)
    return (groups - baseline).reshape(-1)


def clipped_surrogate_loss(log_ratio: Tensor, advantages: Tensor, clip_range: float) -> Tensor:
    """PPO's clipped objective as a loss (Schulman et al. 2017): ``−mean(min(ρ A, clip(ρ, 1 ± ε) A))``.

    :param log_ratio: ``log π_θ(a|s) − log π_old(a|s)`` (per token for PPO, summed per episode for RLOO).
    :param advantages: same shape. :param clip_range: ε.
    """
    ratio = log_ratio.exp()
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    return -torch.minimum(ratio * advantages, clipped * advantages).mean()


def approx_kl(log_ratio: Tensor) -> Tensor:
    """SB3's estimate of KL[π_old ‖ π_θ] from the samples: ``mean((ρ − 1) − log ρ)`` (Schulman's k3)."""
    return (log_ratio.exp() - 1.0 - log_ratio).mean()


__all__ = ["approx_kl", "clipped_surrogate_loss", "gae_advantages", "kl_penalised_reward", "rloo_advantages"]
