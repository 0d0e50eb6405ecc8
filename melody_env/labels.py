"""Which class numbers mean "note off" and "hold" in a Note RNN's training data (docs/spec.md §1).

This project's data, rules and statistics use the paper's labels: 0 = note off (a rest starts), 1 = no
event (the note or rest goes on). The original implementation encoded its training melodies the other
way round, 0 = hold and 1 = rest, while its rules read the paper's labels, so its Note RNN learned to
play 0 where the rules expect a hold. ``label_convention="original"`` reproduces that mix-up as a
compatibility switch (``train_note_rnn(..., label_convention="original")``,
``rl-tuner train-note-rnn --labels original``): only the training and validation melodies are
relabelled; the env, the rules and the statistics keep the paper's labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from reward_rules.tokens import NO_EVENT, NOTE_OFF

LABEL_CONVENTIONS = ("paper", "original")
"""``"paper"``: 0 = note off, 1 = hold (the default, as everywhere here); ``"original"``: 0 and 1 swapped."""


def check_label_convention(convention: str) -> str:
    """Return ``convention`` if it is one of :data:`LABEL_CONVENTIONS`, else raise one clear ``ValueError``."""
    if convention not in LABEL_CONVENTIONS:
        raise ValueError(
            f"label_convention must be one of {LABEL_CONVENTIONS} ('paper': 0 = note off, 1 = hold; 'original': "
            f"0 and 1 swapped as in the original's data), got {convention!r}"
        )
    return convention


def swap_hold_and_rest(melody: np.ndarray) -> np.ndarray:
    """A copy of ``melody`` with classes 0 (note off) and 1 (hold) exchanged; onsets 2..37 unchanged.

    :param melody: 1-D integer classes (docs/spec.md §1); its dtype is kept.
    """
    melody = np.asarray(melody)
    out = melody.copy()
    out[melody == NOTE_OFF] = NO_EVENT
    out[melody == NO_EVENT] = NOTE_OFF
    return out


def relabel_corpus(corpus: Any, convention: str) -> Any:
    """The ``train`` and ``valid`` melodies of ``corpus`` in ``convention``'s labels.

    :param corpus: anything with ``train`` and ``valid`` sequences of melodies (``melody_env.data.Corpus``).
    :param convention: ``"paper"`` returns ``corpus`` itself; ``"original"`` returns a namespace holding
        relabelled copies of the two splits (see :func:`swap_hold_and_rest`) and nothing else.
    """
    if check_label_convention(convention) == "paper":
        return corpus
    return SimpleNamespace(train=_swapped(corpus.train), valid=_swapped(corpus.valid))


def _swapped(melodies: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [swap_hold_and_rest(m) for m in melodies]


__all__ = ["LABEL_CONVENTIONS", "check_label_convention", "relabel_corpus", "swap_hold_and_rest"]
