"""The batched core of ``MelodyCompose-v0``: the generic :class:`~sequence_env.envs.batch.SequenceBatch` on melodies.

:class:`MelodyBatch` holds, for every row, the frozen Reward RNN's state after the last note and the
log-probabilities it gives the next note, and the rules' state (docs/spec.md §4, §5). One ``step`` is one
Reward-RNN step (its numpy copy, :class:`~sequence_env.envs.frozen.FrozenLSTM`) and one ``RuleEvaluator``
step for all rows. It names the generic core's arrays as melodies do (notes, melodies, ``h``, ``c``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from gymnasium import spaces

from melody_env.note_rnn import NoteRNN
from melody_env.task import (
    PRIMERS,
    MelodyPrimer,
    frozen_reward_rnn,
    melody_task,
    render_melody,
    resolve_key,
    resolve_primer,
    resolve_rules,
)
from reward_rules import C_MAJOR, NUM_CLASSES, Key, RuleSet
from sequence_env.envs.batch import SequenceBatch
from sequence_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads
from sequence_env.threads import torch_threads as using_threads  # the argument of that name shadows it

RENDER_MODES = ("ansi", "rgb_array")


def cell_state_bound(max_primer_length: int, melody_length: int) -> float:
    """Bound on ``|c|`` of the Reward RNN's LSTM cell state in any observation: the notes it has consumed.

    From the zero state, ``c' = f·c + i·g`` with gates ``f, i`` in (0, 1) and ``g`` in (−1, 1), so each
    note adds less than 1 to ``|c|`` (at most 1 in float32, where the gates can round to 1). An
    observation follows at most the primer and the whole melody (:meth:`sequence_env.lstm.LSTMPrior.state_spaces`).
    """
    return float(max_primer_length + melody_length)


def observation_space(hidden_size: int, melody_length: int, max_primer_length: int) -> spaces.Dict:
    """One melody's observation: last note, Reward RNN ``(h, c)`` after it, notes played so far."""
    bound = cell_state_bound(max_primer_length, melody_length)
    return spaces.Dict(
        {
            "note": spaces.Discrete(NUM_CLASSES),
            "h": spaces.Box(-1.0, 1.0, (hidden_size,), np.float32),
            "c": spaces.Box(-bound, bound, (hidden_size,), np.float32),
            "position": spaces.Discrete(melody_length + 1),
        }
    )


class MelodyBatch(SequenceBatch):
    """N melodies composed note by note with the reward of Eq. 3 (docs/spec.md §4, §5); no Gymnasium API.

    Arguments as in :class:`melody_env.env.MelodyComposeEnv`, plus ``num_melodies`` (N).
    """

    def __init__(
        self,
        num_melodies: int,
        *,
        checkpoint: NoteRNN | str | os.PathLike | None = None,
        c: float = 0.5,
        key: Key | str = C_MAJOR,
        melody_length: int = 32,
        rules: RuleSet | Mapping[str, float] | None = None,
        reward_mode: str = "full",
        primer: str | os.PathLike | Sequence[int] = "random",
        corpus: str | os.PathLike = "music21",
        corpus_primer_steps: int = 1,
        max_primer_length: int | None = None,
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        with using_threads(check_torch_threads(torch_threads)):
            task = melody_task(
                checkpoint,
                c=c,
                key=key,
                melody_length=melody_length,
                rules=rules,
                primer=primer,
                corpus=corpus,
                corpus_primer_steps=corpus_primer_steps,
            )
        super().__init__(
            num_melodies,
            task,
            reward_mode=reward_mode,
            max_primer_length=max_primer_length,
            torch_threads=torch_threads,
        )
        self.key = task.context
        self.rules = task.terms
        self.primer = task.primer.primer
        self.corpus = task.primer.corpus
        self.corpus_primer_steps = task.primer.steps

    def draw_primer(self, rng: np.random.Generator, primer: str | np.ndarray | None = None) -> np.ndarray:
        """Primer notes of one melody, drawn from ``rng`` (docs/spec.md §6: one random note onset, classes 2..37).

        :param primer: a resolved primer overriding the constructor's (``None``: the constructor's).
        """
        if isinstance(primer, str):
            return MelodyPrimer(primer, self.corpus, self.corpus_primer_steps)(rng)
        return super().draw_primer(rng, primer)

    @property
    def num_melodies(self) -> int:
        """N."""
        return self.num_rows

    @property
    def melody_length(self) -> int:
        """Notes per melody."""
        return self.max_length

    @property
    def reward_rnn(self) -> NoteRNN:
        """The frozen Reward RNN."""
        return self.prior

    @property
    def hidden_size(self) -> int:
        """The Reward RNN's LSTM cells."""
        return self.prior.hidden_size

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The rules' names, in column order."""
        return self.term_names

    @property
    def notes(self) -> np.ndarray:
        """(N,) the note each row played last."""
        return self.tokens

    @property
    def melodies(self) -> np.ndarray:
        """(N, melody_length) the notes so far."""
        return self.sequences

    @property
    def h(self) -> np.ndarray:
        """(N, H) float32 LSTM output of each row after its last note (a view: copy before keeping)."""
        return self.state[0]

    @property
    def c_state(self) -> np.ndarray:
        """(N, H) float32 LSTM cell state of each row after its last note (a view: copy before keeping)."""
        return self.state[1]


__all__ = [
    "PRIMERS",
    "RENDER_MODES",
    "MelodyBatch",
    "cell_state_bound",
    "frozen_reward_rnn",
    "observation_space",
    "render_melody",
    "resolve_key",
    "resolve_primer",
    "resolve_rules",
]
