"""The 38-class melody vocabulary and musical keys (docs/spec.md §1).

One step is a 16th note. Class 0 ends the sounding note (a rest starts), class 1 continues whatever
sounds, and class ``k >= 2`` is the onset of MIDI pitch ``46 + k`` (class 2 = C3, class 14 = C4).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

NUM_CLASSES = 38
NOTE_OFF = 0
NO_EVENT = 1
FIRST_PITCH_CLASS = 2
PITCH_OFFSET = 46
MIN_MIDI = FIRST_PITCH_CLASS + PITCH_OFFSET  # 48, C3
MAX_MIDI = NUM_CLASSES - 1 + PITCH_OFFSET  # 83, B5
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16

_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)


def class_to_midi(token: int) -> int:
    """MIDI pitch of a note-onset class (docs/spec.md §1: class k is MIDI 46 + k)."""
    if not FIRST_PITCH_CLASS <= token < NUM_CLASSES:
        raise ValueError(f"class {token} is not a note onset; onsets are {FIRST_PITCH_CLASS}..{NUM_CLASSES - 1}")
    return int(token) + PITCH_OFFSET


def midi_to_class(pitch: int) -> int:
    """Note-onset class of a MIDI pitch in [48, 84) (docs/spec.md §1)."""
    if not MIN_MIDI <= pitch <= MAX_MIDI:
        raise ValueError(f"MIDI pitch {pitch} is outside [{MIN_MIDI}, {MAX_MIDI}]; fold it into that range first")
    return int(pitch) - PITCH_OFFSET


def token_name(token: int) -> str:
    """Short name of a class: ``off``, ``-`` (no event) or a pitch such as ``C4``."""
    if token == NOTE_OFF:
        return "off"
    if token == NO_EVENT:
        return "-"
    midi = class_to_midi(token)
    return f"{_NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def validate_melody(melody: object, *, name: str = "melody") -> np.ndarray:
    """Return ``melody`` as an int64 array, or raise ``ValueError`` naming what is wrong.

    Accepts any integer array-like whose values are classes 0..37. Floats are refused even when
    integral-looking, so a stray probability vector cannot pass as a melody.
    """
    arr = np.asarray(melody)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        raise ValueError(f"{name} must hold integer classes 0..{NUM_CLASSES - 1}, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= NUM_CLASSES):
        bad = arr[(arr < 0) | (arr >= NUM_CLASSES)].ravel()[0]
        raise ValueError(f"{name} holds class {bad}; valid classes are 0..{NUM_CLASSES - 1}")
    return arr


@dataclass(frozen=True)
class Key:
    """A major or natural-minor key (docs/spec.md §1: C major by default, tonic = class 14, MIDI 60).

    :param tonic: pitch class of the tonic, 0 = C .. 11 = B.
    :param mode: ``"major"`` or ``"minor"``.
    """

    tonic: int = 0
    mode: str = "major"

    def __post_init__(self) -> None:
        if not 0 <= self.tonic < 12:
            raise ValueError(f"tonic must be a pitch class 0..11, got {self.tonic}")
        if self.mode not in ("major", "minor"):
            raise ValueError(f"mode must be 'major' or 'minor', got {self.mode!r}")

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse ``"C"``, ``"F# major"``, ``"A minor"``, ``"Bb"`` or ``"e minor"``."""
        parts = text.strip().split()
        if not parts or len(parts) > 2 or parts[0][0].upper() not in _PITCH_CLASS:
            raise ValueError(f"cannot read key {text!r}; write e.g. 'C', 'F# major' or 'A minor'")
        root = parts[0]
        pc = _PITCH_CLASS[root[0].upper()] + root[1:].count("#") - root[1:].count("b")
        mode = parts[1].lower() if len(parts) == 2 else "major"
        return cls(pc % 12, mode)

    @cached_property
    def pitch_classes(self) -> frozenset[int]:
        """The seven pitch classes of the key."""
        steps = _MAJOR_STEPS if self.mode == "major" else _MINOR_STEPS
        return frozenset((self.tonic + s) % 12 for s in steps)

    @cached_property
    def in_key(self) -> np.ndarray:
        """Boolean mask over the 38 classes; 0 and 1 count as in key, as in the original (docs/spec.md §1)."""
        mask = np.zeros(NUM_CLASSES, dtype=bool)
        mask[[NOTE_OFF, NO_EVENT]] = True
        for token in range(FIRST_PITCH_CLASS, NUM_CLASSES):
            mask[token] = (token + PITCH_OFFSET) % 12 in self.pitch_classes
        return mask

    @property
    def tonic_class(self) -> int:
        """Class of the tonic in the octave from MIDI 60 (class 14 for C)."""
        return midi_to_class(60 + self.tonic)

    @property
    def dominant_pc(self) -> int:
        """Pitch class a fifth above the tonic (G in C)."""
        return (self.tonic + 7) % 12

    @property
    def third_pc(self) -> int:
        """Pitch class of the key's third degree (E in C major, C in A minor)."""
        return (self.tonic + (4 if self.mode == "major" else 3)) % 12

    def __str__(self) -> str:
        return f"{_NOTE_NAMES[self.tonic]} {self.mode}"


C_MAJOR = Key()

__all__ = [
    "C_MAJOR",
    "FIRST_PITCH_CLASS",
    "MAX_MIDI",
    "MIN_MIDI",
    "NOTE_OFF",
    "NO_EVENT",
    "NUM_CLASSES",
    "PITCH_OFFSET",
    "STEPS_PER_BAR",
    "STEPS_PER_QUARTER",
    "Key",
    "class_to_midi",
    "midi_to_class",
    "token_name",
    "validate_melody",
]
