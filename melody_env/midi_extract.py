"""Monophonic melodies from scores, after Magenta's melody extraction (docs/spec.md §2).

Steps for one track: quantize onsets and ends to 16ths (4 steps per quarter, a zero-length note keeps
one step); drop the track if two notes start on the same step (or keep the highest note, an option);
cut each note at the next onset; split into melodies at ≥ ``gap_bars`` bars of silence; truncate to
``max_steps``; keep melodies of ≥ ``min_bars`` bars and ≥ ``min_unique_pitches`` distinct pitches;
transpose to C by a major-key estimate (so minor tunes land in A minor) and fold octaves into
MIDI [48, 84). Melodies start at their first onset (leading silence is dropped).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import symusic

from reward_rules.tokens import MAX_MIDI, MIN_MIDI, STEPS_PER_BAR, STEPS_PER_QUARTER

_MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=np.int64)
_MAJOR_SCALES = np.stack([np.roll(_MAJOR_SCALE, k) for k in range(12)], axis=1)  # (pitch class, tonic)
_OCTAVE_SHIFTS = np.arange(-6, 7) * 12


@dataclass(frozen=True)
class ExtractConfig:
    """Melody-extraction settings; the defaults are Magenta's (docs/spec.md §2).

    :param min_bars: shortest melody kept, in bars of the track's time signature.
    :param min_unique_pitches: fewest distinct MIDI pitches a melody must hold.
    :param max_steps: longer melodies are truncated to this many 16th steps.
    :param gap_bars: a silence of at least this many bars ends a melody.
    :param polyphony: ``"drop"`` a track with simultaneous onsets, or keep its ``"highest"`` note.
    :param first_track_only: use only the first non-drum track with notes (ABC: the tune's melody voice).
    """

    min_bars: float = 7.0
    min_unique_pitches: int = 5
    max_steps: int = 512
    gap_bars: float = 1.0
    polyphony: str = "drop"
    first_track_only: bool = False

    def __post_init__(self) -> None:
        if self.polyphony not in ("drop", "highest"):
            raise ValueError(f"polyphony must be 'drop' or 'highest', got {self.polyphony!r}")
        if self.max_steps < 1 or self.gap_bars <= 0 or self.min_bars < 0:
            raise ValueError("max_steps must be >= 1, gap_bars > 0 and min_bars >= 0")


MIDI_RULES = ExtractConfig()
"""Magenta's melody pipeline on MIDI files: 7 bars, 5 pitches, 512 steps, drop polyphonic tracks."""
ABC_RULES = ExtractConfig(min_bars=2.0, polyphony="highest", first_track_only=True)
"""Folk tunes: the melody voice only, ≥ 2 bars, ≥ 5 pitches; a double stop keeps its top note."""


@dataclass(frozen=True)
class NoteTrack:
    """One track quantized to 16th steps (from the start of the score).

    :param pitches: MIDI pitches, (n,) int64.
    :param starts: onset steps, (n,) int64.
    :param ends: end steps (> start), (n,) int64.
    :param steps_per_bar: bar length from the first time signature (16 for 4/4, 12 for 6/8).
    :param key_hint: tonic pitch class of the relative major of the first key signature, or None.
    """

    pitches: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    steps_per_bar: int = STEPS_PER_BAR
    key_hint: int | None = None


def score_tracks(score: symusic.Score, first_only: bool = False) -> list[NoteTrack]:
    """Quantize the non-drum tracks of a score to 16th steps (rounding onsets and ends).

    :param score: a tick-time symusic score.
    :param first_only: return only the first non-drum track that has notes.
    """
    tpq = score.ticks_per_quarter
    steps_per_bar = STEPS_PER_BAR
    if len(score.time_signatures):
        ts = score.time_signatures[0]
        steps_per_bar = max(1, round(STEPS_PER_QUARTER * 4 * ts.numerator / max(ts.denominator, 1)))
    key_hint = None
    if len(score.key_signatures):
        key_hint = (7 * int(score.key_signatures[0].key)) % 12
    tracks = []
    for track in score.tracks:
        if track.is_drum or not len(track.notes):
            continue
        arrays = track.notes.numpy()
        time = arrays["time"].astype(np.int64)
        starts = np.floor(time * STEPS_PER_QUARTER / tpq + 0.5).astype(np.int64)
        ends = np.floor((time + arrays["duration"]) * STEPS_PER_QUARTER / tpq + 0.5).astype(np.int64)
        ends = np.maximum(ends, starts + 1)
        tracks.append(NoteTrack(arrays["pitch"].astype(np.int64), starts, ends, steps_per_bar, key_hint))
        if first_only:
            break
    return tracks


def monophonic(track: NoteTrack, polyphony: str = "drop") -> NoteTrack | None:
    """Sort the notes and cut each at the next onset; ``None`` if polyphonic and ``polyphony="drop"``.

    :param track: quantized notes.
    :param polyphony: ``"drop"`` or ``"highest"`` (keep the highest of notes starting together).
    """
    order = np.lexsort((-track.pitches, track.starts))
    pitches, starts, ends = track.pitches[order], track.starts[order], track.ends[order]
    first = np.ones(len(starts), dtype=bool)
    first[1:] = starts[1:] != starts[:-1]
    if not first.all():
        if polyphony == "drop":
            return None
        pitches, starts, ends = pitches[first], starts[first], ends[first]
    ends = ends.copy()
    ends[:-1] = np.minimum(ends[:-1], starts[1:])
    return NoteTrack(pitches, starts, ends, track.steps_per_bar, track.key_hint)


def major_key(pitches: np.ndarray, hint: int | None = None) -> int:
    """Tonic pitch class of the major scale holding the most notes (ties: ``hint``, else the lowest).

    :param pitches: MIDI pitches of a melody.
    :param hint: preferred tonic among tied keys (the key signature's relative major).
    """
    histogram = np.bincount(np.asarray(pitches) % 12, minlength=12)
    scores = histogram @ _MAJOR_SCALES
    best = np.flatnonzero(scores == scores.max())
    return int(hint) if hint is not None and hint in best else int(best[0])


def transpose_to_c(pitches: np.ndarray, hint: int | None = None) -> np.ndarray:
    """Shift by −5..+6 semitones so the estimated major key becomes C (docs/spec.md §2)."""
    shift = -major_key(pitches, hint)
    if shift < -5:
        shift += 12
    return np.asarray(pitches) + shift


def fold_octaves(pitches: np.ndarray) -> np.ndarray:
    """Shift by the whole octaves that fit most notes in [48, 84), then fold the rest note by note.

    Among equally good shifts the one centring the melody nearest MIDI 66 wins.
    """
    pitches = np.asarray(pitches, dtype=np.int64)
    if not len(pitches):
        return pitches
    moved = pitches[None, :] + _OCTAVE_SHIFTS[:, None]  # (13, n)
    inside = np.count_nonzero((moved >= MIN_MIDI) & (moved <= MAX_MIDI), axis=1)
    centre = np.abs(pitches.mean() + _OCTAVE_SHIFTS - (MIN_MIDI + MAX_MIDI + 1) / 2)
    best = _OCTAVE_SHIFTS[np.lexsort((centre, -inside))[0]]
    shifted = pitches + best
    return MIN_MIDI + (shifted - MIN_MIDI) % 12 + 12 * np.clip((shifted - MIN_MIDI) // 12, 0, 2)


def extract_melodies(
    track: NoteTrack, config: ExtractConfig = MIDI_RULES, counts: Counter | None = None, transpose: bool = True
) -> list[NoteTrack]:
    """Magenta's melody extraction on one quantized track (docs/spec.md §2).

    :param track: quantized notes of one instrument.
    :param config: thresholds and the polyphony policy.
    :param counts: incremented per rejected track/melody reason (``polyphonic``, ``too_short``,
        ``too_few_pitches``) and for each ``truncated`` melody.
    :param transpose: transpose to C (else only fold octaves).
    :returns: melodies whose steps count from their first onset.
    """
    counts = Counter() if counts is None else counts
    mono = monophonic(track, config.polyphony)
    if mono is None:
        counts["polyphonic"] += 1
        return []
    gap = config.gap_bars * mono.steps_per_bar
    cuts = np.flatnonzero(mono.starts[1:] - mono.ends[:-1] >= gap) + 1
    melodies = []
    for idx in np.split(np.arange(len(mono.starts)), cuts):
        origin = mono.starts[idx[0]]
        starts, ends, pitches = mono.starts[idx] - origin, mono.ends[idx] - origin, mono.pitches[idx]
        if ends[-1] > config.max_steps:
            counts["truncated"] += 1
            keep = starts < config.max_steps
            starts, ends, pitches = starts[keep], np.minimum(ends[keep], config.max_steps), pitches[keep]
        if ends[-1] < config.min_bars * mono.steps_per_bar:
            counts["too_short"] += 1
            continue
        if len(np.unique(pitches)) < config.min_unique_pitches:
            counts["too_few_pitches"] += 1
            continue
        if transpose:
            pitches = transpose_to_c(pitches, mono.key_hint)
        melodies.append(NoteTrack(fold_octaves(pitches), starts, ends, mono.steps_per_bar, 0))
    return melodies


__all__ = [
    "ABC_RULES",
    "MIDI_RULES",
    "ExtractConfig",
    "NoteTrack",
    "extract_melodies",
    "fold_octaves",
    "major_key",
    "monophonic",
    "score_tracks",
    "transpose_to_c",
]
