"""Piano rolls drawn as inline SVG for the listening page, all on one shared pitch axis.

The page draws its own rolls, rather than showing the PNG files beside the samples, so that every roll
on it covers the same pitches (:func:`shared_pitch_range`) with labels in the page's font, and shows
the primer: the note each model was given before its melody (docs/spec.md §6). The primer is drawn in
its own colour in a column left of a dashed line, and continues in that colour while the melody
opens with holds (class 1: "the previous note goes on"), as the model read it. It is not part of the
melody, not played in the WAV and not scored. Time runs left to right in 16th notes, with a thin
line per beat (4 steps) and a thick one per 4/4 bar (16 steps); pitch runs bottom (low) to top
(high), with C rows tinted and black-key rows shaded. Hovering a note shows its name and steps.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from melody_env.encoding import melody_to_notes
from reward_rules.tokens import (
    MAX_MIDI,
    MIN_MIDI,
    NO_EVENT,
    STEPS_PER_BAR,
    STEPS_PER_QUARTER,
    class_to_midi,
    midi_to_class,
    token_name,
)

STEP_PX = 7
"""Pixels per 16th-note step."""
ROW_PX = 6
"""Pixels per semitone."""
LABEL_PX = 30
"""Width of the pitch labels on the left."""
PRIMER_PX = 10
"""Width of the primer column (wider than a step, so that it is easy to see; it is not played)."""
GAP_PX = 6
"""Space between the primer column and the melody."""
AXIS_PX = 14
"""Height of the bar labels under the roll."""

COLOURS = {
    "primer": "#8a8a8a",
    "primer_onset": "#5a5a5a",
    "note": "#3465a4",
    "onset": "#cc4422",
    "c_row": "#e4e8f0",
    "black_key_row": "#ececE8",
    "white_key_row": "#fafaf6",
    "beat": "#dddddd",
    "bar": "#999999",
}
"""Fill colours of the roll, also used by the page's legend."""
_BLACK_KEYS = {1, 3, 6, 8, 10}
_LABELLED = {0: True, 4: False, 7: False}  # pitch class -> bold: C in bold with its octave, E and G plain


def pitch_name(pitch: int) -> str:
    """Name of a MIDI pitch in the project's range, e.g. 60 -> ``C4``."""
    return token_name(midi_to_class(pitch))


def shared_pitch_range(melodies: Iterable[Sequence[int]], primers: Iterable[int | None] = ()) -> tuple[int, int]:
    """The lowest and highest MIDI pitch to draw so that every melody and primer fits: whole octaves C..B.

    :param melodies: melodies as 38-class tokens; only note onsets count.
    :param primers: primer classes (None: no primer).
    :return: ``(low, high)`` with ``low`` a C and ``high`` a B, inside C3..B5; C4..B4 when nothing sounds.
    """
    pitches = [p for melody in melodies for p, _, _ in melody_to_notes(list(melody))]
    pitches += [class_to_midi(int(p)) for p in primers if p is not None]
    if not pitches:
        return 60, 71
    low, high = min(pitches) - min(pitches) % 12, max(pitches) - max(pitches) % 12 + 11
    return max(low, MIN_MIDI), min(high, MAX_MIDI)


def leading_holds(melody: Sequence[int]) -> int:
    """Steps at the start of ``melody`` that are ``NO_EVENT`` (1): the primer's note goes on through them.

    :param melody: 38-class tokens.
    """
    for step, token in enumerate(melody):
        if token != NO_EVENT:
            return step
    return len(melody)


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "") -> str:
    tip = f"<title>{html.escape(title)}</title>" if title else ""
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}">{tip}</rect>'


def piano_roll_svg(melody: Sequence[int], low: int, high: int, primer: int | None = None, label: str = "") -> str:
    """One melody as an SVG piano roll over MIDI pitches ``low..high`` (see the module docs).

    :param melody: 38-class tokens, one per 16th note.
    :param low: lowest MIDI pitch drawn (every roll of a page gets the same).
    :param high: highest MIDI pitch drawn.
    :param primer: the class given to the model before the melody (None: no primer column).
    :param label: what the roll shows, for screen readers.
    :raises ValueError: ``low > high``, or a note or the primer outside ``low..high``.
    """
    notes = melody_to_notes(list(melody))
    outside = [p for p, _, _ in notes if not low <= p <= high]
    if primer is not None and not low <= class_to_midi(primer) <= high:
        outside.append(class_to_midi(primer))
    if low > high or outside:
        raise ValueError(f"pitch range {low}..{high} must hold every note (got {sorted(set(outside))}); widen it")
    steps, rows = len(melody), high - low + 1
    x0 = LABEL_PX + PRIMER_PX + GAP_PX  # the melody's first step; the primer sits at LABEL_PX
    width, height = x0 + steps * STEP_PX + 1, rows * ROW_PX + AXIS_PX
    parts = []
    for pitch in range(low, high + 1):
        y, pc = (high - pitch) * ROW_PX, pitch % 12
        kind = "c_row" if pc == 0 else "black_key_row" if pc in _BLACK_KEYS else "white_key_row"
        parts.append(_rect(LABEL_PX, y, width - LABEL_PX, ROW_PX, COLOURS[kind]))
        if pc in _LABELLED:
            weight = ' font-weight="bold"' if _LABELLED[pc] else ""
            name = pitch_name(pitch) if pc == 0 else pitch_name(pitch)[:-1]
            parts.append(f'<text x="{LABEL_PX - 3}" y="{y + ROW_PX / 2 + 3.5}" text-anchor="end"{weight}>{name}</text>')
    for step in range(0, steps + 1, STEPS_PER_QUARTER):
        colour, w = (COLOURS["bar"], 1.5) if step % STEPS_PER_BAR == 0 else (COLOURS["beat"], 1)
        x = x0 + step * STEP_PX
        parts.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{rows * ROW_PX}" stroke="{colour}" stroke-width="{w}"/>')
        if step % STEPS_PER_BAR == 0 and step < steps:
            parts.append(f'<text x="{x + 2}" y="{height - 3}">bar {step // STEPS_PER_BAR + 1}</text>')
    sep = x0 - GAP_PX / 2
    parts.append(f'<line x1="{sep}" y1="0" x2="{sep}" y2="{rows * ROW_PX}" stroke="#777" stroke-dasharray="2 2"/>')
    if primer is not None:
        y, held = (high - class_to_midi(primer)) * ROW_PX, leading_holds(melody)
        tip = f"primer {token_name(primer)}: given before the melody, not played"
        parts.append(_rect(LABEL_PX, y, PRIMER_PX, ROW_PX, COLOURS["primer"], tip))
        parts.append(_rect(LABEL_PX, y, 2, ROW_PX, COLOURS["primer_onset"]))
        if held:
            tip = f"primer {token_name(primer)} held into the melody (steps 1–{held}), not played"
            parts.append(_rect(x0, y, held * STEP_PX - 1, ROW_PX, COLOURS["primer"], tip))
    for pitch, start, end in notes:
        y, x = (high - pitch) * ROW_PX, x0 + start * STEP_PX
        tip = f"{pitch_name(pitch)}, step {start + 1}" + (f"–{end}" if end - start > 1 else "")
        parts.append(_rect(x, y, (end - start) * STEP_PX - 1, ROW_PX, COLOURS["note"], tip))
        parts.append(_rect(x, y, 2, ROW_PX, COLOURS["onset"]))
    return (
        f'<svg class="roll" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)}" '
        f'data-low="{low}" data-high="{high}" font-size="11" font-family="system-ui, sans-serif">'
        + "".join(parts)
        + "</svg>"
    )


__all__ = ["COLOURS", "leading_holds", "piano_roll_svg", "pitch_name", "shared_pitch_range"]
