"""Replay of single recurrent steps: the Q network's recurrent state is stored with each transition (docs/spec.md §5).

A transition is (previous token x, Q-network state before consuming x — the prior's state parts, ``(h, c)``
for an LSTM —, action a taken, the two parts of the reward — log p(a|s) and the reward terms r(a, s) —
kept apart, done, and for G-learning log p(·|s')). The reward is rebuilt from its parts when a batch
is used (:func:`agents.step.targets.td_reward`), so a c that moves during training (``c="auto"``)
applies to old transitions too. A gradient step replays one recurrent step from the stored state (no
backpropagation through time); the next state s' = (a, state after consuming x) is recomputed by that
step. Storage is preallocated torch tensors; sampling draws uniformly with a seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor


class ReplayBatch(NamedTuple):
    """Sampled transitions; leading dims ``(S, B)`` for S gradient steps of batch B."""

    token: Tensor  # (S, B) int64, previous token x
    state: tuple[Tensor, ...]  # each (S, B, size): the Q network's state before consuming x
    action: Tensor  # (S, B) int64, action actually taken
    log_prior: Tensor  # (S, B) float32, log p(a|s) from the frozen Reward RNN
    reward_terms: Tensor  # (S, B) float32, r(a, s), not divided by c
    done: Tensor  # (S, B) bool, the action ended the episode (s' terminal)
    next_log_prior: Tensor | None  # (S, B, A) log p(·|s'), G-learning only

    def flat(self) -> tuple[Tensor | None, ...]:
        """``(token, *state, action, log_prior, reward_terms, done, next_log_prior)``: the compiled step's order."""
        return (self.token, *self.state, self.action, self.log_prior, self.reward_terms, self.done, self.next_log_prior)


class RecurrentReplayBuffer:
    """Uniform replay of one-step recurrent transitions, a ring of ``capacity`` rows (docs/spec.md §6: 100,000).

    :param capacity: number of transitions kept; the oldest are overwritten.
    :param state_sizes: the size of each part of the Q network's state (``(H, H)`` for an LSTM of H cells).
    :param num_actions: action count (the vocabulary size).
    :param store_prior: also keep log p(·|s') (G-learning).
    """

    def __init__(self, capacity: int, state_sizes: Sequence[int], num_actions: int, store_prior: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"buffer capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.token = torch.zeros(capacity, dtype=torch.int64)
        self.state = tuple(torch.zeros(capacity, size) for size in state_sizes)
        self.action = torch.zeros(capacity, dtype=torch.int64)
        self.log_prior = torch.zeros(capacity)
        self.reward_terms = torch.zeros(capacity)
        self.done = torch.zeros(capacity, dtype=torch.bool)
        self.next_log_prior = torch.zeros(capacity, num_actions) if store_prior else None
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        token: Tensor,
        state: Sequence[Tensor],
        action: Tensor,
        log_prior: Tensor,
        reward_terms: Tensor,
        done: Tensor,
        next_log_prior: Tensor | None = None,
    ) -> None:
        """Append N transitions (leading dim N of every argument), wrapping around at ``capacity``."""
        n = token.shape[0]
        if n > self.capacity:
            raise ValueError(f"cannot add {n} transitions at once to a buffer of capacity {self.capacity}")
        if (next_log_prior is None) != (self.next_log_prior is None):
            raise ValueError("next_log_prior must be given exactly when the buffer was built with store_prior=True")
        if len(state) != len(self.state):
            raise ValueError(f"the state has {len(state)} parts, the buffer stores {len(self.state)}")
        if self.pos + n > self.capacity:
            idx: Tensor | slice = (torch.arange(n) + self.pos) % self.capacity
        else:
            idx = slice(self.pos, self.pos + n)
        self.token[idx] = token
        for mine, part in zip(self.state, state, strict=True):
            mine[idx] = part
        self.action[idx] = action
        self.log_prior[idx] = log_prior
        self.reward_terms[idx] = reward_terms
        self.done[idx] = done
        if self.next_log_prior is not None:
            self.next_log_prior[idx] = next_log_prior
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, num_batches: int, generator: torch.Generator) -> ReplayBatch:
        """Draw ``num_batches`` batches of ``batch_size`` uniformly (with replacement across draws) in one gather."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.randint(self.size, (num_batches, batch_size), generator=generator)
        flat = idx.view(-1)

        def take(t: Tensor) -> Tensor:
            return t.index_select(0, flat).view(num_batches, batch_size, *t.shape[1:])

        prior = None if self.next_log_prior is None else take(self.next_log_prior)
        return ReplayBatch(
            take(self.token),
            tuple(take(part) for part in self.state),
            take(self.action),
            take(self.log_prior),
            take(self.reward_terms),
            take(self.done),
            prior,
        )


__all__ = ["RecurrentReplayBuffer", "ReplayBatch"]
