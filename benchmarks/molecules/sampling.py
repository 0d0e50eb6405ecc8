"""Sampling molecules from the prior or a tuned policy, with each molecule's log π and log p (docs/spec.md §7).

A policy is sampled at temperature 1 (softmax of its logits: Q or RL-only's values, Ψ, G + log p, or the
KL-PPO/RLOO actor's logits, :func:`agents.networks.policy_logits`). Each row stops at its first end token;
the log-probabilities are summed over the tokens up to and including it (all ``length`` if it never
comes), so ``log_policy − log_prior`` is a one-sample estimate of the molecule-level KL[π ‖ p].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.networks import policy_logits
from sequence_env.vocabulary import Vocabulary

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


@dataclass(frozen=True)
class Samples:
    """``tokens (n, length)`` (padding after the end token), ``log_policy (n,)``, ``log_prior (n,)``."""

    tokens: np.ndarray
    log_policy: np.ndarray
    log_prior: np.ndarray


def agent_step(agent: Any) -> Step:
    """One step of ``agent``'s policy logits (an RLTuner or KLPPO), its state carried by the caller."""
    networks, algorithm = agent._composer()

    def step(tokens: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        q_state, g_state = state if state is not None else (None, None)
        values, q_state = networks.values(tokens, q_state)
        log_prior = None
        if algorithm == "g":
            prior_logits, g_state = networks.reward_rnn.step(tokens, g_state)
            log_prior = torch.log_softmax(prior_logits, -1)
        return policy_logits(algorithm, values, log_prior), (q_state, g_state)

    return step


@torch.no_grad()
def sample(prior: Any, vocabulary: Vocabulary, n: int, length: int, seed: int, policy: Step | None = None) -> Samples:
    """``n`` molecules from ``policy`` (``None``: the prior itself), scored under ``prior`` (module docs)."""
    generator = torch.Generator().manual_seed(seed)
    prev = torch.full((n,), vocabulary.begin, dtype=torch.long)
    out = torch.full((n, length), vocabulary.pad, dtype=torch.long)
    log_pi, log_p = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    ended = torch.zeros(n, dtype=torch.bool)
    prior_state = policy_state = None
    for t in range(length):
        prior_logits, prior_state = prior.step(prev, prior_state)
        prior_lp = torch.log_softmax(prior_logits, -1)
        if policy is None:
            policy_lp = prior_lp
        else:
            logits, policy_state = policy(prev, policy_state)
            policy_lp = torch.log_softmax(logits, -1)
        token = torch.multinomial(policy_lp.exp(), 1, generator=generator)[:, 0]
        live = ~ended
        log_pi += torch.where(live, policy_lp.gather(1, token[:, None])[:, 0], 0.0).double()
        log_p += torch.where(live, prior_lp.gather(1, token[:, None])[:, 0], 0.0).double()
        out[:, t] = torch.where(live, token, vocabulary.pad)
        ended |= token == vocabulary.end
        prev = token
        if bool(ended.all()):
            break
    return Samples(out.numpy(), log_pi.numpy(), log_p.numpy())


__all__ = ["Samples", "agent_step", "sample"]
