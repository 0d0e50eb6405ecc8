"""The batched core of the generic env: N episodes of one task stepped in lockstep, no Gymnasium API.

:class:`SequenceBatch` holds, for every row, the frozen prior's state after the last token and the
log-probabilities it gives the next one, and the reward terms' state (docs/spec.md §10). One ``step`` is
one prior step (a numpy stepper, :mod:`sequence_env.envs.frozen`) and one ``TermEvaluator.step`` for all
rows. :class:`sequence_env.envs.env.SequenceTuneEnv` is this core with one row;
:class:`sequence_env.envs.vector.SequenceTuneVectorEnv` exposes N rows.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from sequence_env.envs.frozen import frozen_stepper
from sequence_env.evaluator import TermEvaluator
from sequence_env.reward import check_c, check_reward_mode, compose_reward
from sequence_env.task import SequenceTask
from sequence_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads
from sequence_env.threads import torch_threads as using_threads  # the argument of that name shadows it

PRIMED_TABLE_MAX_VOCAB = 1024  # one-token primers are looked up in a (V, ...) table up to this vocabulary size


def positive_int(value: object, name: str) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` when it is not a positive int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def frozen_prior(prior: Any) -> Any:
    """A frozen copy (eval, no grad) of ``prior``, never the caller's module itself."""
    prior = copy.deepcopy(prior).cpu()
    prior.requires_grad_(False)
    return prior.eval()


def observation_space(task: SequenceTask, prior: Any, max_primer_length: int) -> spaces.Dict:
    """One row's observation: the last token, the prior's state after it (its named parts), tokens so far.

    :param max_primer_length: longest primer fed, which with ``task.max_length`` bounds the state
        (``prior.state_spaces(max_steps)`` where the prior has it; unbounded boxes otherwise).
    """
    max_steps = max_primer_length + task.max_length
    if hasattr(prior, "state_spaces"):
        state = prior.state_spaces(max_steps)
    else:
        parts = zip(prior.state_names, prior.initial_state(1), strict=True)
        state = {name: spaces.Box(-np.inf, np.inf, (part.shape[1],), np.float32) for name, part in parts}
    return spaces.Dict(
        {
            task.token_key: spaces.Discrete(task.vocab_size),
            **state,
            "position": spaces.Discrete(task.max_length + 1),
        }
    )


class SequenceBatch:
    """N episodes of ``task`` stepped token by token with the reward of Eq. 3 (docs/spec.md §5, §10).

    Row arrays (``tokens``, ``positions``, ``sequences``, ``log_probs``) are the core's own buffers: copy
    before keeping. All torch work (copying the prior, its stepper, every step) runs on ``torch_threads``.

    :param num_rows: N. :param task: the task.
    :param c: the weight of the prior against the terms (``None``: the task's).
    :param reward_mode: ``"full"`` (Eq. 3), ``"rules"`` (terms / c) or ``"prior"`` (log p).
    :param max_primer_length: the longest primer accepted (``None``: the task's).
    :param torch_threads: torch threads of the env's torch work (:mod:`sequence_env.threads`).
    """

    def __init__(
        self,
        num_rows: int,
        task: SequenceTask,
        *,
        c: float | None = None,
        reward_mode: str = "full",
        max_primer_length: int | None = None,
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        if not isinstance(task, SequenceTask):
            raise TypeError(f"task must be a sequence_env.SequenceTask, got {type(task).__name__}")
        self.task = task
        self.torch_threads = check_torch_threads(torch_threads)
        self.num_rows = positive_int(num_rows, "num_envs")
        self.max_length = task.max_length
        self.c = check_c(task.c if c is None else c)
        self.reward_mode = check_reward_mode(reward_mode)
        self.max_primer_length = task.max_primer_length
        if max_primer_length is not None:
            self.max_primer_length = positive_int(max_primer_length, "max_primer_length")
            if self.max_primer_length < task.max_primer_length:
                raise ValueError(
                    f"max_primer_length={max_primer_length} is shorter than the primer ({task.max_primer_length} "
                    f"steps); pass at least {task.max_primer_length}"
                )
        self.vocab_size = task.vocab_size
        self.end_token = task.end_token
        with using_threads(self.torch_threads):
            self.prior = frozen_prior(task.load_prior())
            self.stepper = frozen_stepper(self.prior, self.torch_threads)  # the numpy copy steps run
            if self.prior.vocab_size != self.vocab_size:
                raise ValueError(
                    f"task {task.name!r}: the prior reads {self.prior.vocab_size} tokens, the vocabulary has "
                    f"{self.vocab_size}; train the prior on this vocabulary"
                )
            n = self.num_rows
            self._primed = None
            if self.vocab_size <= PRIMED_TABLE_MAX_VOCAB:  # state after each one-token primer: resets are lookups
                log_probs, state = self.stepper.step(
                    np.arange(self.vocab_size), self.stepper.initial_state(self.vocab_size)
                )
                self._primed = (state, log_probs)
            self.state = self.stepper.initial_state(n)
        self.term_names = task.terms.names
        self.evaluator = TermEvaluator(
            n, self.max_length, task.context, task.terms, self.vocab_size, task.trusted_terms
        )
        self.log_probs = np.zeros((n, self.vocab_size), dtype=np.float32)  # log p(.|s) of each row, (N, V)
        self.tokens = np.zeros(n, dtype=np.int64)
        self.positions = np.full(n, -1, dtype=np.int64)  # -1: never reset
        self.ended = np.zeros(n, dtype=bool)  # the row's episode is over (end token or max_length)
        self.sequences = np.zeros((n, self.max_length), dtype=np.int64)
        self.primers: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * n
        self._rows = np.arange(n)

    def with_rows(self, num_rows: int) -> SequenceBatch:
        """A new core of ``num_rows`` rows with this one's task and settings, of the same class."""
        other = type(self).__new__(type(self))
        SequenceBatch.__init__(
            other,
            num_rows,
            self.task,
            c=self.c,
            reward_mode=self.reward_mode,
            max_primer_length=self.max_primer_length,
            torch_threads=self.torch_threads,
        )
        for name, value in vars(self).items():
            vars(other).setdefault(name, value)  # a subclass's own settings (e.g. a melody's key and corpus)
        return other

    # --------------------------------------------------------------------------------- priming
    def check_primer(self, primer: object) -> np.ndarray:
        """A primer as ``(P,)`` int64 token ids, or a ``ValueError`` naming the problem."""
        tokens = self.task.vocabulary.validate(primer, name="primer")
        if tokens.ndim != 1 or tokens.size == 0:
            raise ValueError(f"a primer must hold at least one token (1-D), got shape {tokens.shape}")
        return tokens

    def draw_primer(self, rng: np.random.Generator, primer: np.ndarray | None = None) -> np.ndarray:
        """Primer tokens of one row, drawn from ``rng`` by the task (``primer``, when given, instead)."""
        return self.task.draw_primer(rng) if primer is None else primer

    def reset_rows(self, mask: np.ndarray, primers: Sequence[np.ndarray]) -> None:
        """Start new episodes in the rows where ``mask`` is True, feeding each its primer (in row order)."""
        rows = np.flatnonzero(mask)
        if len(rows) != len(primers):
            raise ValueError(f"{len(rows)} rows to reset but {len(primers)} primers")
        longest = max(map(len, primers), default=0)
        if longest > self.max_primer_length:
            raise ValueError(
                f"a primer of {longest} steps is longer than max_primer_length={self.max_primer_length}, which "
                "bounds the prior's state in the observation space; create the env with "
                f"max_primer_length={longest} (or more)"
            )
        self.evaluator.reset(mask)
        self.positions[rows] = 0
        self.ended[rows] = False
        self.sequences[rows] = 0
        if self._primed is not None and all(len(p) == 1 for p in primers):
            firsts = np.array([p[0] for p in primers], dtype=np.int64)
            state, log_probs = self._primed
            for part, primed in zip(self.state, state, strict=True):
                part[rows] = primed[firsts]
            self.log_probs[rows] = log_probs[firsts]
        else:  # one batched pass per primer length
            lengths = np.array([len(p) for p in primers])
            for length in np.unique(lengths):
                members = np.flatnonzero(lengths == length)
                tokens = np.stack([primers[i] for i in members])  # (B, P)
                state = self.stepper.initial_state(len(members))
                for t in range(length):
                    log_probs, state = self.stepper.step(tokens[:, t], state)
                for part, value in zip(self.state, state, strict=True):
                    part[rows[members]] = value
                self.log_probs[rows[members]] = log_probs
        for row, tokens in zip(rows, primers, strict=True):
            self.primers[row] = tokens
            self.tokens[row] = tokens[-1]

    # ------------------------------------------------------------------------------------ step
    def step(self, actions: np.ndarray, skip: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Play ``actions`` (N,) int64: reward each row (Eq. 3), then advance the prior by one token.

        :param skip: rows not to step (``None``: none); the caller must ``reset_rows`` them afterwards.
        :return: ``(reward, log_prior, terms, term_values)``: (N,) float64 ×3 and (N, n_terms).
        :raises ResetNeeded: when a stepped row has ended its episode or was never reset.
        """
        positions = self.positions
        if skip is not None:
            self.evaluator.reset(skip)
            positions[skip] = 0
            self.ended[skip] = False
        if positions.min() < 0 or positions.max() >= self.max_length or self.ended.any():
            raise ResetNeeded(
                f"an episode is complete ({self.max_length} tokens or its end token) or was never started; "
                "call reset() before step()"
            )
        log_prior = self.log_probs[self._rows, actions].astype(np.float64)  # log p(a|s)
        ending = None
        if self.end_token is not None:
            ending = (actions == self.end_token) | (positions == self.max_length - 1)
        term_values = self.evaluator.step(actions, ending)  # (N, n_terms), weighted
        total = term_values.sum(axis=1)
        reward = np.array(compose_reward(log_prior, total, self.c, self.reward_mode), dtype=np.float64)
        self.log_probs, self.state = self.stepper.step(actions, self.state)
        self.sequences[self._rows, positions] = actions
        positions += 1
        self.tokens[:] = actions
        if ending is not None:
            self.ended |= ending
        else:
            self.ended |= positions == self.max_length
        return reward, log_prior, total, term_values

    def observation(self) -> dict[str, np.ndarray]:
        """Batched observation (copies): the token (N,), the prior's state parts (N, size), position (N,)."""
        obs = {self.task.token_key: self.tokens.copy()}
        for name, part in zip(self.prior.state_names, self.state, strict=True):
            obs[name] = part.copy()
        obs["position"] = self.positions.copy()
        return obs


def check_actions(actions: object, num_envs: int, vocab_size: int) -> np.ndarray:
    """``actions`` as a contiguous (N,) int64 array, or a ``TypeError``/``ValueError`` naming the problem."""
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"actions must be integer token ids 0..{vocab_size - 1}, got dtype {arr.dtype}")
    if arr.shape != (num_envs,):
        raise ValueError(f"actions must have shape ({num_envs},) (one token per row), got {arr.shape}")
    if arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(f"actions must be token ids 0..{vocab_size - 1}, got {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int64)


__all__ = ["SequenceBatch", "check_actions", "frozen_prior", "observation_space", "positive_int"]
