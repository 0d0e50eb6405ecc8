"""Hear and see melodies: a small numpy synthesiser (WAV) and piano rolls (array and PNG).

No external programs or sound fonts: each note is a few harmonics under an ADSR envelope, written
as 16-bit mono PCM with the standard ``wave`` module.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from melody_env.atomic import atomic_write
from melody_env.encoding import DEFAULT_QPM, melody_to_notes
from reward_rules.tokens import MAX_MIDI, MIN_MIDI, STEPS_PER_QUARTER, midi_to_class, token_name, validate_melody

_HARMONICS = np.array([1.0, 0.5, 0.25, 0.125])
_BACKGROUND = np.array([250, 250, 246], dtype=np.uint8)
_C_ROW = np.array([228, 232, 240], dtype=np.uint8)
_BLACK_KEY_ROW = np.array([236, 236, 232], dtype=np.uint8)
_BAR_LINE = np.array([190, 190, 190], dtype=np.uint8)
_NOTE = np.array([52, 101, 164], dtype=np.uint8)
_ONSET = np.array([204, 68, 34], dtype=np.uint8)
_BLACK_KEYS = {1, 3, 6, 8, 10}


def synthesize(
    melody, qpm: float = DEFAULT_QPM, sample_rate: int = 22050, attack: float = 0.01, release: float = 0.08
) -> np.ndarray:
    """Render a melody to float samples in [-1, 1]: additive harmonics with an ADSR envelope.

    :param melody: 1-D tokens 0..37 (16th steps).
    :param qpm: tempo, quarter notes per minute.
    :param sample_rate: samples per second.
    :param attack: attack time in seconds (decay is as long, sustain at 70 %).
    :param release: release time in seconds, taken from the end of the note.
    :returns: (n_samples,) float32, ``n_samples = round(len(melody) * seconds_per_step * sample_rate)``.
    """
    melody = validate_melody(melody)
    if qpm <= 0 or sample_rate <= 0:
        raise ValueError(f"qpm and sample_rate must be positive, got {qpm} and {sample_rate}")
    step_seconds = 60.0 / qpm / STEPS_PER_QUARTER
    out = np.zeros(round(len(melody) * step_seconds * sample_rate), dtype=np.float64)
    for pitch, start, end in melody_to_notes(melody):
        a, b = round(start * step_seconds * sample_rate), min(len(out), round(end * step_seconds * sample_rate))
        t = np.arange(b - a) / sample_rate
        freq = 440.0 * 2.0 ** ((pitch - 69) / 12)
        tone = sum(
            w * np.sin(2 * np.pi * freq * (k + 1) * t)
            for k, w in enumerate(_HARMONICS)
            if freq * (k + 1) < sample_rate / 2
        )
        envelope = np.interp(t, [0.0, attack, 2 * attack], [0.0, 1.0, 0.7])
        envelope *= np.clip((t[-1] - t) / release, 0.0, 1.0) if len(t) else 1.0
        out[a:b] += tone * envelope
    peak = np.abs(out).max(initial=0.0)
    return (out * (0.8 / peak) if peak > 0 else out).astype(np.float32)


def write_wav(melody, path: str | Path, qpm: float = DEFAULT_QPM, sample_rate: int = 22050) -> Path:
    """Write a melody as a mono 16-bit PCM WAV file (atomic: temp file, then rename).

    :param melody: 1-D tokens 0..37.
    :param path: destination ``.wav`` file.
    :param qpm: tempo, quarter notes per minute (80 by default).
    :param sample_rate: samples per second.
    """
    samples = synthesize(melody, qpm, sample_rate)
    pcm = np.round(samples * 32767).astype("<i2")
    path = Path(path)
    with atomic_write(path, ".wav") as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return path


def piano_roll(
    melody, cell_width: int = 8, cell_height: int = 6, low: int | None = None, high: int | None = None
) -> np.ndarray:
    """An RGB piano roll: steps left to right, pitches bottom (low) to top (high).

    Notes are blue bars with their first column red, so repeated notes stay distinct; C rows are
    tinted, black-key rows shaded, and a grey line marks each bar (16 steps).

    :param melody: 1-D tokens 0..37.
    :param cell_width: pixels per step.
    :param cell_height: pixels per semitone.
    :param low: lowest MIDI pitch shown (default 48, C3).
    :param high: highest MIDI pitch shown (default 83, B5).
    :returns: (H, W, 3) uint8 with ``H = (high - low + 1) * cell_height``, ``W = len(melody) * cell_width``.
    """
    melody = validate_melody(melody)
    low, high = MIN_MIDI if low is None else low, MAX_MIDI if high is None else high
    if high < low or cell_width < 1 or cell_height < 1:
        raise ValueError("need low <= high and cells of at least 1 pixel")
    rows, steps = high - low + 1, len(melody)
    grid = np.broadcast_to(_BACKGROUND, (rows, steps, 3)).copy()
    for row in range(rows):
        pc = (high - row) % 12
        if pc == 0:
            grid[row] = _C_ROW
        elif pc in _BLACK_KEYS:
            grid[row] = _BLACK_KEY_ROW
    for pitch, start, end in melody_to_notes(melody):
        if low <= pitch <= high:
            grid[high - pitch, start:end] = _NOTE
    image = np.repeat(np.repeat(grid, cell_height, axis=0), cell_width, axis=1)
    for pitch, start, _ in melody_to_notes(melody):
        if low <= pitch <= high:
            r = (high - pitch) * cell_height
            image[r : r + cell_height, start * cell_width : start * cell_width + max(1, cell_width // 4)] = _ONSET
    image[:, :: 16 * cell_width][np.all(image[:, :: 16 * cell_width] == _BACKGROUND, axis=-1)] = _BAR_LINE
    return image


def save_piano_roll(melody, path: str | Path, title: str | None = None) -> Path:
    """Save a piano roll PNG with note names on the vertical axis (matplotlib, Agg backend).

    :param melody: 1-D tokens 0..37.
    :param path: destination ``.png`` file (written atomically).
    :param title: optional figure title.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    melody = validate_melody(melody)
    pitches = [p for p, _, _ in melody_to_notes(melody)]
    low = max(MIN_MIDI, min(pitches, default=60) - 2)
    high = min(MAX_MIDI, max(pitches, default=72) + 2)
    image = piano_roll(melody, cell_width=8, cell_height=4, low=low, high=high)
    fig = Figure(figsize=(max(4.0, 0.18 * len(melody) + 1.5), max(2.5, 0.16 * (high - low + 1) + 1.0)))
    ax = fig.add_subplot()
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=(0, len(melody), low - 0.5, high + 0.5))
    ticks = list(range(low, high + 1))
    ax.set_yticks(ticks, [token_name(midi_to_class(p)) for p in ticks], fontsize=7)
    ax.set_xticks(range(0, len(melody) + 1, 4 if len(melody) <= 64 else 16))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("step (16th note)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


__all__ = ["piano_roll", "save_piano_roll", "synthesize", "write_wav"]
