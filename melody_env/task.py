"""The melody task: RL Tuner's paper instance of the generic core (docs/spec.md §1-§6, §10).

:func:`melody_task` builds the :class:`~sequence_env.task.SequenceTask` that ``MelodyCompose-v0`` runs:
the 38-class vocabulary, the Note RNN as the prior, the nine rules with the key as their context,
32-step melodies without an end token, one random note onset as the primer, and c = 0.5. Importing
``melody_env`` registers it as the task ``"melody"``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import torch

from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from reward_rules import C_MAJOR, DEFAULT_RULES, NUM_CLASSES, Key, RuleSet, validate_melody
from reward_rules.rules import BUILTIN_RULE_FNS
from reward_rules.tokens import FIRST_PITCH_CLASS, token_name
from sequence_env.task import PrimerFile, SequenceTask
from sequence_env.vocabulary import Vocabulary

TASK_NAME = "melody"
PRIMERS = ("random", "corpus")
VOCABULARY = Vocabulary(tuple(token_name(i) for i in range(NUM_CLASSES)), separator=" ")


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
        from pathlib import Path

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


class MelodyPrimer:
    """Draws one melody's primer (docs/spec.md §6: one random note onset, classes 2..37), or a corpus opening.

    :param primer: ``"random"``, ``"corpus"`` or fixed notes (resolved by :func:`resolve_primer`).
    :param corpus: the corpus of ``"corpus"``. :param steps: steps of a corpus melody's opening.
    """

    def __init__(self, primer: str | np.ndarray, corpus: str, steps: int) -> None:
        self.primer, self.corpus, self.steps = primer, corpus, steps

    @property
    def longest(self) -> int:
        """The longest primer drawn."""
        if isinstance(self.primer, np.ndarray):
            return len(self.primer)
        return 1 if self.primer == "random" else self.steps

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        if isinstance(self.primer, np.ndarray):
            return self.primer
        if self.primer == "random":
            return np.array([rng.integers(FIRST_PITCH_CLASS, NUM_CLASSES)], dtype=np.int64)
        train = _corpus_train(self.corpus)
        melody = train[int(rng.integers(len(train)))]
        return np.asarray(melody[: self.steps], dtype=np.int64)


def random_onsets(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(n, 1)`` primers for composing: one random note onset each, classes 2..37 (docs/spec.md §6)."""
    return torch.randint(FIRST_PITCH_CLASS, NUM_CLASSES, (n, 1), generator=generator)


def read_primer_file(path: str | os.PathLike) -> PrimerFile:
    """A MIDI/ABC file as a primer: transposed to C major / A minor (the tuners' key), and the melodies
    composed after it transposed back (:func:`melody_env.encoding.read_primer`)."""
    from melody_env.encoding import read_primer, transpose_melody  # music21: imported only when a file is read

    read = read_primer(path)
    shift = read.shift
    return PrimerFile(read.tokens, (lambda melodies: transpose_melody(melodies, shift)) if shift else None)


def render_melody(mode: str, primer: np.ndarray, melody: np.ndarray, length: int) -> str | np.ndarray:
    """``"ansi"``: primer in brackets, then note names, bars split by ``|``; ``"rgb_array"``: a piano roll.

    The piano roll is always ``length`` steps wide (steps not yet played are blank), so frames of one
    episode have one size (video recorders need that).
    """
    from reward_rules.tokens import STEPS_PER_BAR

    if mode == "rgb_array":
        from melody_env.listen import piano_roll

        padded = np.zeros(length, dtype=np.int64)  # NOTE_OFF: the last note played ends at "now"
        padded[: len(melody)] = melody
        return piano_roll(padded)
    names = [token_name(int(t)) for t in melody]
    bars = [" ".join(names[i : i + STEPS_PER_BAR]) for i in range(0, len(names), STEPS_PER_BAR)]
    head = " ".join(token_name(int(t)) for t in primer[-STEPS_PER_BAR:])
    return f"[{'... ' if len(primer) > STEPS_PER_BAR else ''}{head}] " + " | ".join(bars)


def melody_task(
    checkpoint: NoteRNN | str | os.PathLike | None = None,
    *,
    c: float = 0.5,
    key: Key | str = C_MAJOR,
    melody_length: int = 32,
    rules: RuleSet | Mapping[str, float] | None = None,
    primer: str | os.PathLike | Sequence[int] = "random",
    corpus: str | os.PathLike = "music21",
    corpus_primer_steps: int = 1,
) -> SequenceTask:
    """The task of ``MelodyCompose-v0`` (arguments as :class:`melody_env.env.MelodyComposeEnv`'s)."""
    melody_length = _positive_int(melody_length, "melody_length")
    draw = MelodyPrimer(resolve_primer(primer), str(corpus), _positive_int(corpus_primer_steps, "corpus_primer_steps"))
    key = resolve_key(key)
    options = {"c": c, "key": str(key), "melody_length": melody_length}
    return SequenceTask(
        name=TASK_NAME,
        vocabulary=VOCABULARY,
        prior=frozen_reward_rnn(checkpoint),
        terms=resolve_rules(rules),
        max_length=melody_length,
        context=key,
        c=c,
        primer=draw,
        primer_batch=random_onsets,
        max_primer_length=draw.longest,
        token_key="note",
        sum_key="music_theory",
        term_prefix="rules/",
        read_primer=read_primer_file,
        trusted_terms=BUILTIN_RULE_FNS,
        render=render_melody,
        module="melody_env",
        options=options,
    )


__all__ = [
    "PRIMERS",
    "TASK_NAME",
    "VOCABULARY",
    "MelodyPrimer",
    "frozen_reward_rnn",
    "melody_task",
    "random_onsets",
    "read_primer_file",
    "render_melody",
    "resolve_key",
    "resolve_primer",
    "resolve_rules",
]
