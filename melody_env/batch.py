"""The batched core of ``MelodyCompose-v0``: N melodies composed in lockstep, no Gymnasium API.

:class:`MelodyBatch` holds, for every row, the frozen Reward RNN's state after the last note and the
log-probabilities it gives the next note, and the rules' state (docs/spec.md §4, §5). One ``step`` is one
Reward-RNN step (its numpy copy, :class:`~melody_env.frozen_rnn.FrozenNoteRNN`) and one
``RuleEvaluator.step`` for all rows. :class:`melody_env.env.MelodyComposeEnv`
is this core with one row; :class:`melody_env.vector.MelodyComposeVectorEnv` exposes N rows. The
argument checks, spaces and rendering shared by both live here too.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from melody_env.frozen_rnn import FrozenNoteRNN
from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from melody_env.reward import check_c, check_reward_mode, compose_reward
from melody_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads
from melody_env.threads import torch_threads as using_threads  # the argument of that name shadows it
from reward_rules import C_MAJOR, DEFAULT_RULES, NUM_CLASSES, Key, RuleEvaluator, RuleSet, validate_melody
from reward_rules.tokens import FIRST_PITCH_CLASS, STEPS_PER_BAR, token_name

PRIMERS = ("random", "corpus")
RENDER_MODES = ("ansi", "rgb_array")


# ------------------------------------------------------------------------------------- arguments
def frozen_reward_rnn(checkpoint: NoteRNN | str | os.PathLike | None) -> NoteRNN:
    """The Reward RNN: a frozen copy (eval, no grad) of ``checkpoint``, never the caller's module itself.

    :param checkpoint: ``None`` for the shipped Note RNN, a checkpoint path (``NoteRNN.load``) or a ``NoteRNN``.
    """
    if checkpoint is None:
        rnn = load_default_note_rnn()
    elif isinstance(checkpoint, NoteRNN):
        rnn = copy.deepcopy(checkpoint).cpu()
    elif isinstance(checkpoint, (str, os.PathLike)):
        rnn = NoteRNN.load(checkpoint)
    else:
        raise TypeError(f"checkpoint must be None, a path or a NoteRNN, got {type(checkpoint).__name__}")
    rnn.requires_grad_(False)
    return rnn.eval()


def resolve_key(key: Key | str) -> Key:
    """A :class:`~reward_rules.tokens.Key` from a ``Key`` or a string such as ``"A minor"``."""
    if isinstance(key, Key):
        return key
    if isinstance(key, str):
        return Key.parse(key)
    raise TypeError(f"key must be a reward_rules Key or a string like 'C major', got {type(key).__name__}")


def resolve_rules(rules: RuleSet | Mapping[str, float] | None) -> RuleSet:
    """The rule set: ``None`` = the nine rules of docs/spec.md §4; a mapping ``{name: weight}`` reweighs those."""
    if rules is None:
        return DEFAULT_RULES
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, Mapping):
        out = DEFAULT_RULES
        for name, weight in rules.items():
            if name not in out:
                raise ValueError(f"unknown rule {name!r} in rules; known rules are {out.names}")
            out = out.with_weight(name, weight)
        return out
    raise TypeError(f"rules must be a RuleSet, a {{name: weight}} mapping or None, got {type(rules).__name__}")


def resolve_primer(primer: str | os.PathLike | Sequence[int] | np.ndarray) -> str | np.ndarray:
    """``"random"``, ``"corpus"``, or the fixed primer notes (from a MIDI/ABC file or a sequence of classes)."""
    if isinstance(primer, str) and primer in PRIMERS:
        return primer
    if isinstance(primer, (str, os.PathLike)):
        path = Path(primer)
        if not path.is_file():
            raise ValueError(f"primer {str(primer)!r} is neither one of {PRIMERS} nor an existing MIDI/ABC file")
        from melody_env.encoding import read_melody  # music21: imported only when a file is read

        primer = read_melody(path)
    tokens = validate_melody(primer, name="primer")
    if tokens.ndim != 1 or tokens.size == 0:
        raise ValueError(f"a primer must hold at least one note class (1-D), got shape {tokens.shape}")
    return tokens.copy()


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


@lru_cache(maxsize=4)
def _corpus_train(source: str) -> tuple[np.ndarray, ...]:
    """Training melodies of a corpus source, loaded once per process (slow the first time)."""
    from melody_env.data import load_corpus

    return tuple(load_corpus(source).train)


def cell_state_bound(max_primer_length: int, melody_length: int) -> float:
    """Bound on ``|c|`` of the Reward RNN's LSTM cell state in any observation: the notes it has consumed.

    From the zero state, ``c' = f·c + i·g`` with gates ``f, i`` in (0, 1) and ``g`` in (−1, 1), so each
    note adds less than 1 to ``|c|`` (at most 1 in float32, where the gates can round to 1). An
    observation follows at most the primer and the whole melody.

    :param max_primer_length: longest primer the env feeds. :param melody_length: notes per melody.
    """
    return float(max_primer_length + melody_length)


def observation_space(hidden_size: int, melody_length: int, max_primer_length: int) -> spaces.Dict:
    """One melody's observation: last note, Reward RNN ``(h, c)`` after it, notes played so far.

    :param hidden_size: LSTM cells. :param melody_length: notes per melody.
    :param max_primer_length: longest primer, which bounds ``c`` (:func:`cell_state_bound`).
    """
    bound = cell_state_bound(max_primer_length, melody_length)
    return spaces.Dict(
        {
            "note": spaces.Discrete(NUM_CLASSES),
            "h": spaces.Box(-1.0, 1.0, (hidden_size,), np.float32),
            "c": spaces.Box(-bound, bound, (hidden_size,), np.float32),
            "position": spaces.Discrete(melody_length + 1),
        }
    )


def render_melody(mode: str, primer: np.ndarray, melody: np.ndarray, length: int) -> str | np.ndarray:
    """``"ansi"``: primer in brackets, then note names, bars split by ``|``; ``"rgb_array"``: a piano roll.

    The piano roll is always ``length`` steps wide (steps not yet played are blank), so frames of one
    episode have one size (video recorders need that).
    """
    if mode == "rgb_array":
        from melody_env.listen import piano_roll

        padded = np.zeros(length, dtype=np.int64)  # NOTE_OFF: the last note played ends at "now"
        padded[: len(melody)] = melody
        return piano_roll(padded)
    names = [token_name(int(t)) for t in melody]
    bars = [" ".join(names[i : i + STEPS_PER_BAR]) for i in range(0, len(names), STEPS_PER_BAR)]
    head = " ".join(token_name(int(t)) for t in primer[-STEPS_PER_BAR:])
    return f"[{'... ' if len(primer) > STEPS_PER_BAR else ''}{head}] " + " | ".join(bars)


# ------------------------------------------------------------------------------------------ core
class MelodyBatch:
    """N melodies composed note by note with the reward of Eq. 3 (docs/spec.md §4, §5); no Gymnasium API.

    Arguments as in :class:`melody_env.env.MelodyComposeEnv`, plus ``num_melodies`` (N). Row arrays
    (``notes``, ``positions``, ``melodies``, ``log_probs``) are the core's own buffers: copy before keeping.
    All torch work (building the Reward RNN, its numpy copy, every step) runs on ``torch_threads``.
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
        self.torch_threads = check_torch_threads(torch_threads)
        self.num_melodies = _positive_int(num_melodies, "num_envs")
        self.melody_length = _positive_int(melody_length, "melody_length")
        self.c = check_c(c)
        self.reward_mode = check_reward_mode(reward_mode)
        self.key = resolve_key(key)
        self.rules = resolve_rules(rules)
        self.primer = resolve_primer(primer)
        self.corpus = str(corpus)
        self.corpus_primer_steps = _positive_int(corpus_primer_steps, "corpus_primer_steps")
        self.max_primer_length = self._check_max_primer_length(max_primer_length)
        with using_threads(self.torch_threads):
            self.reward_rnn = frozen_reward_rnn(checkpoint)
            self.inference_rnn = FrozenNoteRNN(self.reward_rnn, self.torch_threads)  # the numpy copy steps run
        self.hidden_size = self.reward_rnn.config.hidden_size
        self.rule_names = self.rules.names
        self.evaluator = RuleEvaluator(self.num_melodies, self.melody_length, self.key, self.rules)
        n = self.num_melodies
        # State after a one-note primer from the zero state, for all 38 notes: resets are lookups.
        log_probs, h, c_state = self.inference_rnn.step(
            np.arange(NUM_CLASSES), *self.inference_rnn.initial_state(NUM_CLASSES)
        )
        self._primed = (h, c_state, log_probs)
        self._h, self._c = self.inference_rnn.initial_state(n)
        self.log_probs = np.zeros((n, NUM_CLASSES), dtype=np.float32)  # log p(.|s) of each row, (N, 38)
        self.notes = np.zeros(n, dtype=np.int64)
        self.positions = np.full(n, -1, dtype=np.int64)  # -1: never reset
        self.melodies = np.zeros((n, self.melody_length), dtype=np.int64)
        self.primers: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * n
        self._rows = np.arange(n)

    def _check_max_primer_length(self, value: int | None) -> int:
        """``value``, or the longest primer of the constructor's ``primer`` when ``None``."""
        if isinstance(self.primer, np.ndarray):
            longest = len(self.primer)
        else:
            longest = 1 if self.primer == "random" else self.corpus_primer_steps
        if value is None:
            return longest
        value = _positive_int(value, "max_primer_length")
        if value < longest:
            raise ValueError(
                f"max_primer_length={value} is shorter than the primer ({longest} steps); pass at least {longest}"
            )
        return value

    # --------------------------------------------------------------------------------- priming
    def draw_primer(self, rng: np.random.Generator, primer: str | np.ndarray | None = None) -> np.ndarray:
        """Primer notes of one melody, drawn from ``rng`` (docs/spec.md §6: one random note onset, classes 2..37).

        :param primer: a resolved primer overriding the constructor's (``None``: the constructor's).
        """
        primer = self.primer if primer is None else primer
        if isinstance(primer, np.ndarray):
            return primer
        if primer == "random":
            return np.array([rng.integers(FIRST_PITCH_CLASS, NUM_CLASSES)], dtype=np.int64)
        train = _corpus_train(self.corpus)
        melody = train[int(rng.integers(len(train)))]
        return np.asarray(melody[: self.corpus_primer_steps], dtype=np.int64)

    def reset_rows(self, mask: np.ndarray, primers: Sequence[np.ndarray]) -> None:
        """Start new melodies in the rows where ``mask`` is True, feeding each its primer (in row order)."""
        rows = np.flatnonzero(mask)
        if len(rows) != len(primers):
            raise ValueError(f"{len(rows)} rows to reset but {len(primers)} primers")
        longest = max(map(len, primers), default=0)
        if longest > self.max_primer_length:
            raise ValueError(
                f"a primer of {longest} steps is longer than max_primer_length={self.max_primer_length}, which "
                "bounds the cell state c in the observation space; create the env with "
                f"max_primer_length={longest} (or more)"
            )
        self.evaluator.reset(mask)
        self.positions[rows] = 0
        self.melodies[rows] = 0
        if all(len(p) == 1 for p in primers):
            firsts = np.array([p[0] for p in primers], dtype=np.int64)
            h, c, log_probs = self._primed
            self._h[rows], self._c[rows], self.log_probs[rows] = h[firsts], c[firsts], log_probs[firsts]
        else:  # one batched pass per primer length
            lengths = np.array([len(p) for p in primers])
            for length in np.unique(lengths):
                members = np.flatnonzero(lengths == length)
                notes = np.stack([primers[i] for i in members])  # (B, P)
                h, c = self.inference_rnn.initial_state(len(members))
                for t in range(length):
                    log_probs, h, c = self.inference_rnn.step(notes[:, t], h, c)
                self._h[rows[members]], self._c[rows[members]], self.log_probs[rows[members]] = h, c, log_probs
        for row, notes in zip(rows, primers, strict=True):
            self.primers[row] = notes
            self.notes[row] = notes[-1]

    # ------------------------------------------------------------------------------------ step
    def step(self, actions: np.ndarray, skip: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Play ``actions`` (N,) int64: reward each row (Eq. 3), then advance the Reward RNN by one note.

        :param skip: rows not to step (``None``: none); the caller must ``reset_rows`` them afterwards.
        :return: ``(reward, log_prior, music_theory, rule_values)``: (N,) float64 ×3 and (N, n_rules).
        :raises ResetNeeded: when a stepped row has finished its melody or was never reset.
        """
        positions = self.positions
        if skip is not None:
            self.evaluator.reset(skip)
            positions[skip] = 0
        if positions.min() < 0 or positions.max() >= self.melody_length:
            raise ResetNeeded(
                f"a melody is complete ({self.melody_length} notes) or was never started; call reset() before step()"
            )
        log_prior = self.log_probs[self._rows, actions].astype(np.float64)  # log p(a|s)
        rule_values = self.evaluator.step(actions)  # (N, n_rules), weighted
        music_theory = rule_values.sum(axis=1)
        reward = np.array(compose_reward(log_prior, music_theory, self.c, self.reward_mode), dtype=np.float64)
        self.log_probs, self._h, self._c = self.inference_rnn.step(actions, self._h, self._c)
        self.melodies[self._rows, positions] = actions
        positions += 1
        self.notes[:] = actions
        return reward, log_prior, music_theory, rule_values

    @property
    def h(self) -> np.ndarray:
        """(N, H) float32 LSTM output of each row after its last note (a view: copy before keeping)."""
        return self._h

    @property
    def c_state(self) -> np.ndarray:
        """(N, H) float32 LSTM cell state of each row after its last note (a view: copy before keeping)."""
        return self._c

    def observation(self) -> dict[str, np.ndarray]:
        """Batched observation (copies): ``note`` (N,), ``h`` and ``c`` (N, H) float32, ``position`` (N,)."""
        return {
            "note": self.notes.copy(),
            "h": self.h.copy(),
            "c": self.c_state.copy(),
            "position": self.positions.copy(),
        }


def check_actions(actions: object, num_envs: int) -> np.ndarray:
    """``actions`` as a contiguous (N,) int64 array, or a ``TypeError``/``ValueError`` naming the problem."""
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"actions must be integer note classes 0..{NUM_CLASSES - 1}, got dtype {arr.dtype}")
    if arr.shape != (num_envs,):
        raise ValueError(f"actions must have shape ({num_envs},) (one note per melody), got {arr.shape}")
    if arr.min() < 0 or arr.max() >= NUM_CLASSES:
        raise ValueError(f"actions must be note classes 0..{NUM_CLASSES - 1}, got {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int64)


__all__ = [
    "PRIMERS",
    "RENDER_MODES",
    "MelodyBatch",
    "cell_state_bound",
    "check_actions",
    "frozen_reward_rnn",
    "observation_space",
    "render_melody",
    "resolve_key",
    "resolve_primer",
    "resolve_rules",
]
