"""Reward terms for N episodes stepping together: the batched, incremental evaluator (docs/spec.md §10).

Each ``step(actions)`` appends one token to every row and evaluates every term for every row with
numpy (no loop over rows). Rows restart independently with ``reset(mask)``, so rows may sit at
different positions. Terms given ``at="end"`` are evaluated only on the rows the ``ending`` mask names.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from sequence_env.terms import RewardTerm, RewardTerms


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class TermEvaluator:
    """Incremental, batched reward terms: N episodes of at most ``length`` tokens.

    :param num_rows: N, the number of episodes stepped together.
    :param length: tokens per episode at most.
    :param context: passed to every term (the task's context).
    :param terms: the terms and weights.
    :param vocab_size: token ids are ``0..vocab_size - 1``.
    :param trusted: term functions whose output shape is not checked (the built-in ones).
    """

    def __init__(
        self,
        num_rows: int,
        length: int,
        context: Any,
        terms: RewardTerms | tuple[RewardTerm, ...],
        vocab_size: int,
        trusted: Collection[Any] = (),
    ) -> None:
        self.num_rows = _positive_int(num_rows, "num_melodies")
        self.length = _positive_int(length, "length")
        self.context = context
        self.vocab_size = _positive_int(vocab_size, "vocab_size")
        self.terms = terms if isinstance(terms, RewardTerms) else RewardTerms(terms)
        weights = self.terms.weights
        self._weights = None if (weights == 1.0).all() else weights  # None: nothing to multiply
        self._fns = [term.bind(self.num_rows) for term in self.terms]
        self._from_tokens = [getattr(fn, "rewards", None) for fn in self._fns]  # optional, see sequence_env.terms
        self._checked = [term.fn not in trusted for term in self.terms]
        self._at_end = [term.at == "end" for term in self.terms]
        self.has_end_terms = any(self._at_end)
        self._stateful = [fn for term, fn in zip(self.terms, self._fns, strict=True) if term.stateful]
        self._buffer = np.zeros((self.num_rows, self.length), dtype=np.int64)
        self._positions = np.zeros(self.num_rows, dtype=np.int64)
        self._top = 0  # max(self._positions)
        self._rows = np.arange(self.num_rows)
        self._view = self._buffer.view()
        self._view.flags.writeable = False

    @property
    def names(self) -> tuple[str, ...]:
        """Column names of ``step``'s output."""
        return self.terms.names

    @property
    def positions(self) -> np.ndarray:
        """(N,) number of tokens each row holds; a read-only view."""
        view = self._positions.view()
        view.flags.writeable = False
        return view

    @property
    def sequences(self) -> np.ndarray:
        """(N, length) int64 tokens so far; the unused tail of a row is 0; a read-only view."""
        return self._view

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Restart all rows, or the rows where the (N,) bool ``mask`` is True."""
        if mask is None:
            mask = np.ones(self.num_rows, dtype=bool)
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (self.num_rows,):
            raise ValueError(f"mask must be a bool array of shape ({self.num_rows},), got {mask.dtype} {mask.shape}")
        self._buffer[mask] = 0
        self._positions[mask] = 0
        self._top = int(self._positions.max())
        for state in self._stateful:
            state.reset(mask)

    def check_actions(self, actions: object) -> np.ndarray:
        """``actions`` as (N,) int64 token ids, or a ``ValueError`` naming the problem."""
        arr = np.asarray(actions)
        if arr.dtype.kind not in "iu" or arr.dtype == np.bool_:
            raise ValueError(f"actions must be integer token ids 0..{self.vocab_size - 1}, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise ValueError(f"actions must be token ids 0..{self.vocab_size - 1}, got {arr.min()}..{arr.max()}")
        return arr

    def step(self, actions: np.ndarray, ending: np.ndarray | None = None) -> np.ndarray:
        """Append ``actions`` (N,) to the rows and return the weighted rewards (N, n_terms) float64.

        :param ending: (N,) bool, rows whose episode ends with this token (``at="end"`` terms score those
            rows only; ``None``: rows reaching ``length`` tokens).
        :raises ValueError: on invalid ids, a wrong shape, or a row that already holds ``length`` tokens.
        """
        if not (type(actions) is np.ndarray and actions.dtype == np.int64):
            actions = self.check_actions(actions)
        if actions.shape != self._positions.shape:
            raise ValueError(f"actions must have shape ({self.num_rows},), got {actions.shape}")
        if actions.view(np.uint64).max() >= self.vocab_size:  # one check for both ends (negatives wrap)
            self.check_actions(actions)
        if self._top >= self.length:
            raise ValueError(
                f"row {int(np.argmax(self._positions >= self.length))} already holds {self.length} tokens; "
                "call reset(mask) before stepping it again"
            )
        positions = self._positions.copy()
        positions.flags.writeable = False
        self._buffer[self._rows, positions] = actions
        out = np.empty((self.num_rows, len(self._fns)), dtype=np.float64)
        if self.has_end_terms and ending is None:
            ending = positions == self.length - 1
        for j, fn in enumerate(self._fns):
            if self._at_end[j]:
                out[:, j] = self._end_term(j, fn, ending, positions)
                continue
            from_tokens = self._from_tokens[j]
            if from_tokens is None:
                reward = fn(self._view, positions, self.context)
            else:
                reward = from_tokens(actions, positions, self._view, self.context)
            if self._checked[j]:
                reward = self._checked_output(j, reward, self.num_rows)
            out[:, j] = reward
        self._positions += 1
        self._top += 1
        if self._weights is not None:
            out *= self._weights
        return out

    def _end_term(self, j: int, fn: Any, ending: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Term ``j`` on the ending rows only; 0 on the others."""
        column = np.zeros(self.num_rows)
        rows = np.flatnonzero(ending)
        if len(rows):
            reward = fn(self._view[rows], positions[rows], self.context)
            column[rows] = self._checked_output(j, reward, len(rows))
        return column

    def _checked_output(self, j: int, reward: object, n: int) -> np.ndarray:
        reward = np.asarray(reward, dtype=np.float64)
        if reward.shape != (n,):
            raise ValueError(f"rule {self.terms.names[j]!r} returned shape {reward.shape}, expected ({n},)")
        return reward


__all__ = ["TermEvaluator"]
