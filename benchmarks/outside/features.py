"""Features of a melody from outside the project: muspy's metrics and two histograms.

Six scalars are muspy's own metrics, called on the melody as a muspy ``Music``
(:mod:`benchmarks.outside.music`): pitch range, pitch classes used, pitch-class entropy, scale
consistency (its numbers, computed here in one pass: :func:`scale_consistency`), empty-beat rate and
groove consistency. muspy has no interval or note-length
histogram, so those two are small functions here, over the same ``Music`` notes:

* **interval histogram**: the absolute interval between consecutive notes (rests between them
  ignored), one bin per 0..12 semitones and one for more than an octave, normalised to sum 1;
* **note-length histogram**: the length of each note in 16th steps, binned as Yang & Lerch's
  note-length histogram restricted to the 16th grid (no triplets): 16th, 8th, dotted 8th, quarter,
  dotted quarter, half, dotted half, whole, and "other" for every other length; normalised to sum 1.

A feature that is undefined for a melody (pitch-class entropy of a silent melody, intervals of a
melody with fewer than two notes) is NaN there.

:data:`RULE_FREE` names the features that no rule of the music-theory reward measures
(docs/spec.md §4): pitch range, pitch-class entropy and groove consistency. The others are measured,
or nearly, by a rule: scale consistency and pitch classes used by rules 1 (key) and 5 (distinct
pitches per bar), the interval histogram by rules 7 and 8, the note-length histogram and the
empty-beat rate by rule 7 (it pays for every held and every rest step) and rules 2 and 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import muspy
import numpy as np

from benchmarks.outside.music import melody_to_music
from reward_rules.tokens import STEPS_PER_BAR, validate_melody

INTERVAL_BINS = (*(str(d) for d in range(13)), ">12")
"""Bins of the interval histogram: 0..12 semitones, then more than an octave."""
NOTE_LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16)
"""Note lengths (16th steps) with a bin of their own; every other length falls in "other"."""
NOTE_LENGTH_BINS = ("16th", "8th", "dotted 8th", "quarter", "dotted quarter", "half", "dotted half", "whole", "other")
"""Bin names of the note-length histogram, in the order of :data:`NOTE_LENGTHS` plus "other"."""


def _pitches(music: muspy.Music) -> list[int]:
    return [note.pitch for track in music.tracks for note in sorted(track.notes, key=lambda n: n.time)]


def _normalised(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.full(len(counts), np.nan)


def interval_histogram(music: muspy.Music) -> np.ndarray:
    """Share of consecutive-note intervals per bin of :data:`INTERVAL_BINS` (NaN with < 2 notes).

    :param music: one monophonic track.
    """
    intervals = np.abs(np.diff(np.array(_pitches(music), dtype=np.int64)))
    return _normalised(np.bincount(np.minimum(intervals, 13), minlength=14).astype(float))


def note_length_histogram(music: muspy.Music) -> np.ndarray:
    """Share of notes per bin of :data:`NOTE_LENGTH_BINS` (NaN without notes).

    :param music: exact note durations (``melody_to_music(..., last_tick_ends=False)``), one tick a 16th.
    """
    index = {length: i for i, length in enumerate(NOTE_LENGTHS)}
    other = len(NOTE_LENGTHS)
    bins = [index.get(note.duration, other) for track in music.tracks for note in track.notes]
    return _normalised(np.bincount(np.array(bins, dtype=np.int64), minlength=other + 1).astype(float))


_C_SCALES = {"major": (1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1), "minor": (1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0)}
_SCALES = np.array([np.roll(c, root) for c in _C_SCALES.values() for root in range(12)], dtype=np.int64)  # (24, 12)


def scale_consistency(music: muspy.Music) -> float:
    """``muspy.scale_consistency``: the largest share of notes in one major or (natural) minor scale, NaN without notes.

    The same floats as muspy's (tested), from one pitch-class count instead of muspy's 24 passes over
    the notes, each rolling its scale mask: muspy's took half the time of all the features here.
    """
    counts = np.zeros(12, dtype=np.int64)
    for track in music.tracks:
        if not track.is_drum:
            for note in track.notes:
                counts[note.pitch % 12] += 1
    total = int(counts.sum())
    if total < 1:
        return float("nan")
    return max(0.0, *(int(k) / total for k in _SCALES @ counts))


def _groove_consistency(music: muspy.Music) -> float:
    return muspy.groove_consistency(music, measure_resolution=STEPS_PER_BAR)


@dataclass(frozen=True)
class Feature:
    """One feature of a melody.

    :param name: key in results.
    :param title: name shown in reports.
    :param compute: the function of a muspy ``Music``; a float, or a vector for a histogram.
    :param last_tick_ends: the function wants the ``last_tick_ends`` view (see :mod:`.music`).
    :param rules: the rules of docs/spec.md §4 that measure it, or "" when none does.
    :param bins: bin names of a histogram; empty for a scalar.
    """

    name: str
    title: str
    compute: Callable[[muspy.Music], float | np.ndarray]
    last_tick_ends: bool = False
    rules: str = ""
    bins: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Length of the feature vector (1 for a scalar)."""
        return len(self.bins) or 1


FEATURES: tuple[Feature, ...] = (
    Feature("pitch_range", "pitch range (semitones)", muspy.pitch_range),
    Feature("pitch_classes_used", "pitch classes used", muspy.n_pitch_classes_used, rules="1, 5"),
    Feature("pitch_class_entropy", "pitch-class entropy (bits)", muspy.pitch_class_entropy),
    Feature("scale_consistency", "scale consistency", scale_consistency, rules="1"),
    Feature("empty_beat_rate", "empty-beat rate", muspy.empty_beat_rate, last_tick_ends=True, rules="2, 7"),
    Feature("groove_consistency", "groove consistency", _groove_consistency, last_tick_ends=True),
    Feature("interval_histogram", "interval histogram", interval_histogram, rules="7, 8", bins=INTERVAL_BINS),
    Feature(
        "note_length_histogram", "note-length histogram", note_length_histogram, rules="2, 3, 7", bins=NOTE_LENGTH_BINS
    ),
)
"""Every feature, in report order."""
FEATURE_NAMES = tuple(f.name for f in FEATURES)
RULE_FREE = tuple(f.name for f in FEATURES if not f.rules)
"""Features that no rule measures: pitch range, pitch-class entropy, groove consistency."""


def melody_features(melodies: np.ndarray) -> dict[str, np.ndarray]:
    """Every feature of every melody.

    :param melodies: (n, T) note classes 0..37, n ≥ 1.
    :returns: feature name → (n, size) float array, NaN where the feature is undefined.
    """
    melodies = validate_melody(melodies, name="melodies")
    if melodies.ndim != 2 or not melodies.size:
        raise ValueError(f"melodies must be a non-empty (n, T) array of note classes, got shape {melodies.shape}")
    out = {f.name: np.empty((len(melodies), f.size)) for f in FEATURES}
    for row, melody in enumerate(melodies):
        views = {False: melody_to_music(melody), True: melody_to_music(melody, last_tick_ends=True)}
        for f in FEATURES:
            out[f.name][row] = f.compute(views[f.last_tick_ends])
    return out


__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "INTERVAL_BINS",
    "NOTE_LENGTHS",
    "NOTE_LENGTH_BINS",
    "RULE_FREE",
    "Feature",
    "interval_histogram",
    "melody_features",
    "note_length_histogram",
    "scale_consistency",
]
