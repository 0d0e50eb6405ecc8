"""Our 38-class melodies as muspy ``Music`` objects (docs/spec.md §1).

One tick is one step, a 16th note, so the resolution is 4 ticks per quarter and a 4/4 bar is 16
ticks. The notes are those of
:func:`melody_env.encoding.melody_to_notes` (class ``k ≥ 2`` is MIDI ``46 + k``; a note lasts until
the next rest or onset). The melody's length, trailing rests included, is kept as an annotation at
its last tick, so muspy's ``get_end_time`` sees the whole melody and not just its last note.

muspy's empty-beat rate and groove consistency read a note's end and the music's end as the last
tick played: a note ending at tick ``e`` also marks the beat holding tick ``e``, and a 2-bar melody
ending at tick 32 counts a third, empty bar. Given the exact ends, a quarter note then a quarter rest
reads as two sounding beats, and a 2-bar melody (32 ticks) reads as 3 bars, its second bar compared
with an empty third. For those two metrics, :func:`melody_to_music` with
``last_tick_ends=True`` moves every end one tick earlier (a 16th note lasts zero ticks), so they
measure the melody's own beats and bars. The pitch metrics do not read durations.
"""

from __future__ import annotations

import muspy
import numpy as np

from melody_env.encoding import melody_to_notes
from reward_rules.tokens import STEPS_PER_QUARTER, validate_melody

END_ANNOTATION = "end of melody"
"""Text of the annotation that marks the melody's length."""


def melody_to_music(melody: np.ndarray, *, last_tick_ends: bool = False) -> muspy.Music:
    """A one-track 4/4 muspy ``Music`` holding the melody's notes, one tick per 16th step.

    :param melody: 1-D tokens 0..37 (docs/spec.md §1).
    :param last_tick_ends: end every note (and the melody) one tick early, as muspy's empty-beat
        rate and groove consistency expect (see the module docs); False gives the exact durations.
    """
    melody = validate_melody(melody)
    if melody.ndim != 1 or not len(melody):
        raise ValueError(f"melody must be a non-empty 1-D array of classes, got shape {melody.shape}")
    shift = 1 if last_tick_ends else 0
    notes = [
        muspy.Note(time=start, pitch=pitch, duration=end - start - shift, velocity=64)
        for pitch, start, end in melody_to_notes(melody)
    ]
    end = muspy.Annotation(time=len(melody) - shift, annotation=END_ANNOTATION)
    return muspy.Music(
        resolution=STEPS_PER_QUARTER,
        time_signatures=[muspy.TimeSignature(time=0, numerator=4, denominator=4)],
        tracks=[muspy.Track(program=0, notes=notes, annotations=[end])],
    )


__all__ = ["END_ANNOTATION", "melody_to_music"]
