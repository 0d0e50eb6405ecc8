"""Melodies as 38-class token arrays, and their round trips to notes, music21 and MIDI (docs/spec.md §1).

A note is its onset class (``46 + k`` = MIDI pitch) followed by ``NO_EVENT`` (1) for each further
step it sounds; a rest is ``NOTE_OFF`` (0) at its first step followed by 1s. Back-to-back notes need
no 0. Example from the paper: ``[4, 1, 0, 1]`` is an eighth-note D3 then an eighth rest. A leading 1
(nothing sounding yet) reads as silence. Printed, a step reads as its note name (``C4`` = MIDI 60,
middle C), ``-`` (hold: the sounding note or rest goes on one more 16th) or ``off`` (a rest starts):
``D3 - off -`` is the paper's example.

A melody is composed after a *primer*, notes fed to the model first and not part of the melody: a
melody that opens with ``-`` holds the primer's last note. :func:`write_midi` writes the primer
before the melody, in the same track, and marks where each starts with MIDI markers (``primer``,
``melody``); :func:`read_primed` splits such a file again. A primer read from a file is transposed
to C major / A minor, the only keys of the training corpus (:func:`read_primer`), and
:func:`transpose_melody` takes what was composed back to the file's key.

Unlike the original implementation, the data are encoded with the paper's labels (it used 0 = hold,
1 = rest for its data while its rules used the paper's), and MIDI pitches are exact (its decoder wrote
every pitch a whole tone too high): class 14 is MIDI 60 both ways.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import music21
import numpy as np

from melody_env import abc
from melody_env.midi_extract import NoteTrack, fold_octaves, monophonic, score_tracks, transpose_to_c
from reward_rules.tokens import (
    FIRST_PITCH_CLASS,
    MAX_MIDI,
    MIN_MIDI,
    NO_EVENT,
    NOTE_OFF,
    PITCH_OFFSET,
    STEPS_PER_QUARTER,
    midi_to_class,
    token_name,
    validate_melody,
)
from sequence_env.atomic import atomic_write

DEFAULT_QPM = 80.0
"""Tempo of written MIDI/WAV files, in quarter notes per minute."""
PRIMER_MARKER = "primer"
"""Text of the MIDI marker at the start of a written primer."""
MELODY_MARKER = "melody"
"""Text of the MIDI marker where the melody starts after its primer."""
NOTATION = (
    "a note name (C4 = middle C) starts a note, '-' holds the sounding note or rest one more 16th, 'off' starts a rest"
)
"""How printed melodies read (``reward_rules.tokens.token_name``), for output headers."""

Writer = TypeVar("Writer", bound=Callable[..., Path])


def notes_to_melody(pitches, start_steps, end_steps, length: int | None = None) -> np.ndarray:
    """Encode quantized monophonic notes as tokens (docs/spec.md §1).

    :param pitches: MIDI pitches in [48, 84), one per note.
    :param start_steps: onset steps (16ths), strictly increasing.
    :param end_steps: end steps, ``start < end <= next start``.
    :param length: number of steps (default: the last end); extra steps are a trailing rest.
    :returns: (length,) int64 tokens.
    """
    pitches, starts, ends = (np.asarray(a, dtype=np.int64).ravel() for a in (pitches, start_steps, end_steps))
    if not len(pitches) == len(starts) == len(ends):
        raise ValueError(
            f"pitches, start_steps and end_steps differ in length: {len(pitches)}, {len(starts)}, {len(ends)}"
        )
    if len(pitches) and (pitches.min() < MIN_MIDI or pitches.max() > MAX_MIDI):
        raise ValueError(
            f"pitches must lie in [{MIN_MIDI}, {MAX_MIDI}]; fold octaves first (midi_extract.fold_octaves)"
        )
    if np.any(starts < 0) or np.any(ends <= starts) or np.any(ends[:-1] > starts[1:]):
        raise ValueError("notes must be sorted, non-overlapping, with 0 <= start < end <= next start")
    last = int(ends[-1]) if len(ends) else 0
    length = last if length is None else int(length)
    if length < last:
        raise ValueError(f"length {length} is shorter than the last note end {last}")
    melody = np.full(length, NO_EVENT, dtype=np.int64)
    silent = np.setdiff1d(np.append(ends, 0), starts)  # steps where a rest starts
    melody[silent[silent < length]] = NOTE_OFF
    melody[starts] = pitches - PITCH_OFFSET
    return melody


def melody_to_notes(melody) -> list[tuple[int, int, int]]:
    """Decode tokens into notes ``(midi_pitch, start_step, end_step)`` (docs/spec.md §1).

    :param melody: 1-D tokens 0..37.
    """
    melody = validate_melody(melody)
    events = np.flatnonzero(melody != NO_EVENT)
    if not events.size:
        return []
    bounds = np.append(events[1:], len(melody))
    return [
        (int(melody[s]) + PITCH_OFFSET, int(s), int(e))
        for s, e in zip(events, bounds, strict=True)
        if melody[s] >= FIRST_PITCH_CLASS
    ]


def melody_to_stream(melody, qpm: float = DEFAULT_QPM) -> music21.stream.Part:
    """A 4/4 music21 part with measures; notes crossing a barline are split and tied.

    :param melody: 1-D tokens 0..37 (16th steps).
    :param qpm: tempo mark, quarter notes per minute.
    """
    melody = validate_melody(melody)
    part = music21.stream.Part()
    part.append(music21.tempo.MetronomeMark(number=qpm))
    part.append(music21.meter.TimeSignature("4/4"))
    cursor = 0
    for pitch, start, end in [*melody_to_notes(melody), (None, len(melody), len(melody))]:
        if start > cursor:
            part.append(music21.note.Rest(quarterLength=(start - cursor) / STEPS_PER_QUARTER))
        if pitch is not None:
            part.append(music21.note.Note(pitch, quarterLength=(end - start) / STEPS_PER_QUARTER))
        cursor = end
    if not len(melody):
        return part
    measured = part.makeMeasures()
    measured.makeTies(inPlace=True)
    return measured


def stream_to_melody(stream: music21.stream.Stream) -> np.ndarray:
    """Tokens of a monophonic music21 stream (ties merged; a chord gives its highest pitch).

    :param stream: any music21 stream; its total duration (trailing rests included) sets the length.
    :raises ValueError: for pitches outside [48, 84) or notes off the 16th grid that collide.
    """
    flat = stream.stripTies().flatten()
    pitches, starts, ends = [], [], []
    for element in flat.notes:
        pitch = max(p.midi for p in element.pitches)
        start = round(float(element.offset) * STEPS_PER_QUARTER)
        end = max(start + 1, round(float(element.offset + element.quarterLength) * STEPS_PER_QUARTER))
        pitches.append(pitch)
        starts.append(start)
        ends.append(end)
    length = round(float(flat.highestTime) * STEPS_PER_QUARTER)
    mono = monophonic(NoteTrack(*(np.array(a, dtype=np.int64) for a in (pitches, starts, ends))), "highest")
    return notes_to_melody(mono.pitches, mono.starts, mono.ends, max(length, int(mono.ends.max(initial=0))))


def primed(melody, primer=None) -> tuple[np.ndarray, int]:
    """The primer and the melody as one line of tokens, and the step where the melody starts.

    :param melody: 1-D tokens 0..37.
    :param primer: 1-D tokens fed before the melody, or ``None`` (no primer: the melody starts at 0).
    """
    melody = validate_melody(melody)
    if primer is None:
        return melody, 0
    primer = validate_melody(primer, name="primer")
    if primer.ndim != 1:
        raise ValueError(f"a melody's primer must be 1-D, got shape {primer.shape}")
    return np.concatenate([primer, melody]), len(primer)


def per_melody(write: Writer) -> Writer:
    """Let a one-melody writer ``write(melody, path, ..., primer=None)`` take a batch too.

    A 2-D ``melody`` (one melody per row, e.g. ``tuner.generate(4)``) writes one file per row, named
    ``<stem>_000<suffix>``, ``<stem>_001<suffix>``, …, and returns their paths as a list; a 2-D
    ``primer`` gives row i its own primer, a 1-D one primes every row.
    """

    @functools.wraps(write)
    def wrapper(melody, path, *args, primer=None, **kwargs):
        shape = np.shape(melody)
        if len(shape) == 1:
            return write(melody, path, *args, primer=primer, **kwargs)
        if len(shape) != 2:
            raise ValueError(f"melody must be 1-D (one melody) or 2-D (one melody per row), got shape {shape}")
        if primer is not None and np.ndim(primer) == 2 and len(primer) != shape[0]:
            raise ValueError(f"a 2-D primer needs one row per melody ({shape[0]}), got {len(primer)} rows")
        path = Path(path)
        rows = primer if primer is not None and np.ndim(primer) == 2 else [primer] * shape[0]
        return [
            write(row, path.with_name(f"{path.stem}_{i:03d}{path.suffix}"), *args, primer=p, **kwargs)
            for i, (row, p) in enumerate(zip(melody, rows, strict=True))
        ]

    return wrapper  # type: ignore[return-value]


def _add_markers(track: music21.midi.MidiTrack, markers: list[tuple[int, str]]) -> None:
    """Insert MIDI marker meta-events ``(tick, text)`` into ``track`` (its end of track stays last)."""
    timed, now = [], 0
    for delta, event in zip(track.events[::2], track.events[1::2], strict=True):
        now += delta.time
        timed.append((now, event))
    end_time, end = timed.pop()
    for tick, text in markers:
        event = music21.midi.MidiEvent(track, type=music21.midi.MetaEvents.MARKER)
        event.data = text.encode()
        timed.append((tick, event))
    timed.sort(key=lambda item: item[0])
    timed.append((max(end_time, timed[-1][0]), end))
    track.events, now = [], 0
    for tick, event in timed:
        track.events += [music21.midi.DeltaTime(track, time=tick - now), event]
        now = tick


@per_melody
def write_midi(melody, path: str | Path, qpm: float = DEFAULT_QPM, *, primer=None) -> Path:
    """Write a melody (after its primer, if given) as a one-track MIDI file through music21 (atomic).

    The end of each track is set to the line's length, so trailing rests survive a round trip
    through :func:`read_melody`. With a primer, the track plays the primer then the melody (a melody
    opening with holds sustains the primer's last note, as the model heard it), and MIDI markers
    ``primer`` (at 0) and ``melody`` (where the melody starts) tell them apart (:func:`read_primed`).

    :param melody: 1-D tokens 0..37; class 14 is written as MIDI 60 (C4). A 2-D array writes one
        file per row (``<stem>_000.mid``, …) and returns the list of paths (:func:`per_melody`).
    :param path: destination ``.mid`` file.
    :param qpm: tempo, quarter notes per minute (80 by default).
    :param primer: 1-D tokens fed to the model before the melody (``None``: none written).
    """
    line, start = primed(melody, primer)
    midi = music21.midi.translate.streamToMidiFile(melody_to_stream(line, qpm))
    step_ticks = midi.ticksPerQuarterNote // STEPS_PER_QUARTER
    if primer is not None:
        _add_markers(midi.tracks[0], [(0, PRIMER_MARKER), (start * step_ticks, MELODY_MARKER)])
    total = len(line) * step_ticks
    for track in midi.tracks:
        deltas = [e for e in track.events if isinstance(e, music21.midi.DeltaTime)]
        before_end = sum(d.time for d in deltas[:-1])
        deltas[-1].time = max(0, total - before_end)
    path = Path(path)
    with atomic_write(path, ".mid") as tmp:
        midi.open(str(tmp), "wb")
        midi.write()
        midi.close()
    return path


def _midi_end_steps(path: Path) -> int:
    """Latest end-of-track time of a MIDI file, in 16th steps."""
    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    tpq = midi.ticksPerQuarterNote
    total = max(
        (sum(e.time for e in t.events if isinstance(e, music21.midi.DeltaTime)) for t in midi.tracks), default=0
    )
    return round(total * STEPS_PER_QUARTER / tpq)


def read_melody(path: str | Path, transpose: bool = False) -> np.ndarray:
    """The first melody of a MIDI or ABC file: its first non-drum track (first tune for ABC).

    Simultaneous onsets keep the highest note; octaves are folded into [48, 84); leading rests are
    kept, and for MIDI the end of the track sets the length (trailing rest).

    :param path: a ``.mid``/``.midi`` or ``.abc`` file.
    :param transpose: also transpose to C major / A minor, as the corpus is (docs/spec.md §2).
    :raises ValueError: when the file cannot be parsed or holds no notes.
    """
    import symusic

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a file; pass a MIDI (.mid) or ABC (.abc) file")
    is_abc = path.suffix.lower() == ".abc"
    try:
        if is_abc:
            header, tunes = abc.split_tunes(abc.read_text(path))
            score = abc.parse_tunes(tunes[:1], header)[0] if tunes else None
            if score is None:
                raise ValueError("no ABC tune that abc2midi can convert")
        else:
            score = symusic.Score(str(path))
    except (ValueError, RuntimeError, OSError) as err:
        raise ValueError(f"cannot read {path}: {err}; pass a valid MIDI or ABC file") from err
    tracks = score_tracks(score, first_only=True)
    if not tracks:
        raise ValueError(f"{path} holds no (non-drum) notes")
    mono = monophonic(tracks[0], "highest")
    pitches = transpose_to_c(mono.pitches, mono.key_hint) if transpose else mono.pitches
    if transpose or pitches.min() < MIN_MIDI or pitches.max() > MAX_MIDI:
        pitches = fold_octaves(pitches)
    length = int(mono.ends[-1]) if is_abc else max(int(mono.ends[-1]), _midi_end_steps(path))
    return notes_to_melody(pitches, mono.starts, mono.ends, length)


def read_primed(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(primer, melody)`` of a file written by :func:`write_midi` with a primer, split at its ``melody`` marker.

    A file without that marker (any other MIDI file, or ABC) has an empty primer.

    :param path: a ``.mid``/``.midi`` or ``.abc`` file.
    """
    import symusic

    line = read_melody(path)
    start = 0
    if Path(path).suffix.lower() != ".abc":
        score = symusic.Score(str(path))
        ticks = [m.time for m in score.markers if m.text == MELODY_MARKER]
        start = min(len(line), round(ticks[0] * STEPS_PER_QUARTER / score.ticks_per_quarter)) if ticks else 0
    return line[:start], line[start:]


def transpose_melody(melody, semitones: int) -> np.ndarray:
    """Move every note onset by ``semitones``; holds and rests stay. A note leaving [48, 84) moves by octaves back in.

    :param melody: tokens 0..37, any shape (e.g. a batch of melodies).
    :param semitones: the shift (e.g. :attr:`Primer.shift`).
    """
    melody = validate_melody(melody).copy()
    onsets = melody >= FIRST_PITCH_CLASS
    pitches = melody[onsets] + PITCH_OFFSET + int(semitones) - MIN_MIDI
    melody[onsets] = MIN_MIDI + pitches % 12 + 12 * np.clip(pitches // 12, 0, 2) - PITCH_OFFSET
    return melody


@dataclass(frozen=True)
class Primer:
    """A melody file read as a primer: in the Note RNN's key, and the way back to the file's.

    :param tokens: the file's first melody transposed to C major / A minor (as the corpus is, docs/spec.md §2):
        what the models are primed with.
    :param original: the same notes as written in the file (octaves folded into [48, 84) only if needed).
    :param shift: semitones from ``tokens`` back to the file: ``transpose_melody(tokens, shift)`` is
        ``original``; apply it to what was composed after the primer to continue in the file's key.
    :param key: the file's estimated key, e.g. ``"D major / B minor"``.
    """

    tokens: np.ndarray
    original: np.ndarray
    shift: int
    key: str


def _key_name(major_tonic: int) -> str:
    major, minor = (token_name(midi_to_class(60 + pc % 12))[:-1] for pc in (major_tonic, major_tonic + 9))
    return f"{major} major / {minor} minor"


def read_primer(path: str | Path) -> Primer:
    """Read a MIDI or ABC file's first melody as a :class:`Primer` (see :func:`read_melody`).

    :param path: a ``.mid``/``.midi`` or ``.abc`` file.
    :raises ValueError: when the file cannot be read or holds no notes.
    """
    original = read_melody(path)
    tokens = read_melody(path, transpose=True)
    onsets = original >= FIRST_PITCH_CLASS
    shift = Counter((original[onsets] - tokens[onsets]).tolist()).most_common(1)[0][0]
    return Primer(tokens, original, int(shift), _key_name(shift))  # tokens are in C: the shift is the file's tonic


__all__ = [
    "DEFAULT_QPM",
    "MELODY_MARKER",
    "NOTATION",
    "PRIMER_MARKER",
    "Primer",
    "melody_to_notes",
    "melody_to_stream",
    "notes_to_melody",
    "per_melody",
    "primed",
    "read_melody",
    "read_primed",
    "read_primer",
    "stream_to_melody",
    "transpose_melody",
    "write_midi",
]
