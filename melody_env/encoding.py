"""Melodies as 38-class token arrays, and their round trips to notes, music21 and MIDI (SPEC §1).

A note is its onset class (``46 + k`` = MIDI pitch) followed by ``NO_EVENT`` (1) for each further
step it sounds; a rest is ``NOTE_OFF`` (0) at its first step followed by 1s. Back-to-back notes need
no 0. Example from the paper: ``[4, 1, 0, 1]`` is an eighth-note D3 then an eighth rest. A leading 1
(nothing sounding yet) reads as silence.

Unlike the original implementation, the data are encoded with the paper's labels (it used 0 = hold,
1 = rest for its data while its rules used the paper's), and MIDI pitches are exact (its decoder wrote
every pitch a whole tone too high): class 14 is MIDI 60 both ways.
"""

from __future__ import annotations

from pathlib import Path

import music21
import numpy as np

from melody_env import abc
from melody_env.atomic import atomic_write
from melody_env.midi_extract import NoteTrack, fold_octaves, monophonic, score_tracks, transpose_to_c
from reward_rules.tokens import (
    FIRST_PITCH_CLASS,
    MAX_MIDI,
    MIN_MIDI,
    NO_EVENT,
    NOTE_OFF,
    PITCH_OFFSET,
    STEPS_PER_QUARTER,
    validate_melody,
)

DEFAULT_QPM = 80.0
"""Tempo of written MIDI/WAV files, in quarter notes per minute."""


def notes_to_melody(pitches, start_steps, end_steps, length: int | None = None) -> np.ndarray:
    """Encode quantized monophonic notes as tokens (SPEC §1).

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
    """Decode tokens into notes ``(midi_pitch, start_step, end_step)`` (SPEC §1).

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


def write_midi(melody, path: str | Path, qpm: float = DEFAULT_QPM) -> Path:
    """Write a melody as a one-track MIDI file through music21 (atomic: temp file, then rename).

    The end of each track is set to the melody's length, so trailing rests survive a round trip
    through :func:`read_melody`.

    :param melody: 1-D tokens 0..37; class 14 is written as MIDI 60 (C4).
    :param path: destination ``.mid`` file.
    :param qpm: tempo, quarter notes per minute (80 by default).
    """
    melody = validate_melody(melody)
    midi = music21.midi.translate.streamToMidiFile(melody_to_stream(melody, qpm))
    total = len(melody) * midi.ticksPerQuarterNote // STEPS_PER_QUARTER
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
    :param transpose: also transpose to C major / A minor, as the corpus is (SPEC §2).
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


__all__ = [
    "DEFAULT_QPM",
    "melody_to_notes",
    "melody_to_stream",
    "notes_to_melody",
    "read_melody",
    "stream_to_melody",
    "write_midi",
]
