"""Replay of single recurrent steps: the Q network's LSTM state is stored with each transition (docs/spec.md §5).

A transition is (previous note x, Q-network state (h, c) before consuming x, action a taken, the two
parts of the reward — log p(a|s) and rMT(a, s) — kept apart, done, and for G-learning log p(·|s')).
The reward is rebuilt from its parts when a batch is used (:func:`agents.step.targets.td_reward`), so a c
that moves during training (``c="auto"``) applies to old transitions too. A gradient step replays one
LSTM step from the stored state (no backpropagation through time); the next state s' = (a, LSTM state
after consuming x) is recomputed by that step. Storage is preallocated torch tensors; sampling draws
uniformly with a seeded generator.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class ReplayBatch(NamedTuple):
    """Sampled transitions; leading dims ``(S, B)`` for S gradient steps of batch B."""

    note: Tensor  # (S, B) int64, previous note x
    h: Tensor  # (S, B, H) Q-network hidden state before consuming x
    c: Tensor  # (S, B, H) Q-network cell state before consuming x
    action: Tensor  # (S, B) int64, action actually taken
    log_prior: Tensor  # (S, B) float32, log p(a|s) from the frozen Reward RNN
    music_theory: Tensor  # (S, B) float32, rMT(a, s), not divided by c
    done: Tensor  # (S, B) bool, the action was the melody's last note (s' terminal)
    next_log_prior: Tensor | None  # (S, B, A) log p(·|s'), G-learning only


class RecurrentReplayBuffer:
    """Uniform replay of one-step recurrent transitions, a ring of ``capacity`` rows (docs/spec.md §6: 100,000).

    :param capacity: number of transitions kept; the oldest are overwritten.
    :param hidden_size: LSTM cells of the Q network (100).
    :param num_actions: action count (38).
    :param store_prior: also keep log p(·|s') (G-learning).
    """

    def __init__(self, capacity: int, hidden_size: int, num_actions: int, store_prior: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"buffer capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.note = torch.zeros(capacity, dtype=torch.int64)
        self.h = torch.zeros(capacity, hidden_size)
        self.c = torch.zeros(capacity, hidden_size)
        self.action = torch.zeros(capacity, dtype=torch.int64)
        self.log_prior = torch.zeros(capacity)
        self.music_theory = torch.zeros(capacity)
        self.done = torch.zeros(capacity, dtype=torch.bool)
        self.next_log_prior = torch.zeros(capacity, num_actions) if store_prior else None
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        note: Tensor,
        h: Tensor,
        c: Tensor,
        action: Tensor,
        log_prior: Tensor,
        music_theory: Tensor,
        done: Tensor,
        next_log_prior: Tensor | None = None,
    ) -> None:
        """Append N transitions (leading dim N of every argument), wrapping around at ``capacity``."""
        n = note.shape[0]
        if n > self.capacity:
            raise ValueError(f"cannot add {n} transitions at once to a buffer of capacity {self.capacity}")
        if (next_log_prior is None) != (self.next_log_prior is None):
            raise ValueError("next_log_prior must be given exactly when the buffer was built with store_prior=True")
        if self.pos + n > self.capacity:
            idx: Tensor | slice = (torch.arange(n) + self.pos) % self.capacity
        else:
            idx = slice(self.pos, self.pos + n)
        self.note[idx] = note
        self.h[idx] = h
        self.c[idx] = c
        self.action[idx] = action
        self.log_prior[idx] = log_prior
        self.music_theory[idx] = music_theory
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
            take(self.note),
            take(self.h),
            take(self.c),
            take(self.action),
            take(self.log_prior),
            take(self.music_theory),
            take(self.done),
            prior,
        )


__all__ = ["RecurrentReplayBuffer", "ReplayBatch"]
