"""Hear and see melodies: a small numpy synthesiser (WAV), piano rolls (array and PNG), a window.

No external programs or sound fonts: each note is a few harmonics under an ADSR envelope, written
as 16-bit mono PCM with the standard ``wave`` module. Given a primer, the WAV plays it before the
melody and the piano roll shades its steps (its notes grey); the melody is unchanged. A 2-D array
writes one file per row (:func:`melody_env.encoding.per_melody`). :class:`HumanRenderer` shows
frames in a pygame window (``pip install "rl-tuner[human]"``), for ``render_mode="human"``.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from gymnasium.error import DependencyNotInstalled

from melody_env.encoding import DEFAULT_QPM, melody_to_notes, per_melody, primed
from reward_rules.tokens import MAX_MIDI, MIN_MIDI, STEPS_PER_QUARTER, midi_to_class, token_name, validate_melody
from sequence_env.atomic import atomic_write

_HARMONICS = np.array([1.0, 0.5, 0.25, 0.125])
_BACKGROUND = np.array([250, 250, 246], dtype=np.uint8)
_C_ROW = np.array([228, 232, 240], dtype=np.uint8)
_BLACK_KEY_ROW = np.array([236, 236, 232], dtype=np.uint8)
_BAR_LINE = np.array([190, 190, 190], dtype=np.uint8)
_NOTE = np.array([52, 101, 164], dtype=np.uint8)
_ONSET = np.array([204, 68, 34], dtype=np.uint8)
_PRIMER_NOTE = np.array([150, 150, 150], dtype=np.uint8)
_PRIMER_ONSET = np.array([90, 90, 90], dtype=np.uint8)
_PRIMER_SHADE = 0.85
_BLACK_KEYS = {1, 3, 6, 8, 10}
PNG_PRIMER_STEPS = 32
"""A saved piano roll shows at most this many steps of the primer (its end)."""
HUMAN_RENDER_MISSING = (
    'render_mode="human" needs pygame: pip install "rl-tuner[human]" (or pygame); '
    'render_mode="rgb_array" or "ansi" need nothing more'
)


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


@per_melody
def write_wav(melody, path: str | Path, qpm: float = DEFAULT_QPM, sample_rate: int = 22050, *, primer=None) -> Path:
    """Write a melody (after its primer, if given) as a mono 16-bit PCM WAV file (atomic: temp file, then rename).

    :param melody: 1-D tokens 0..37; a 2-D array writes one file per row (``<stem>_000.wav``, …)
        and returns the list of paths.
    :param path: destination ``.wav`` file.
    :param qpm: tempo, quarter notes per minute (80 by default).
    :param sample_rate: samples per second.
    :param primer: 1-D tokens played before the melody (``None``: the melody alone).
    """
    samples = synthesize(primed(melody, primer)[0], qpm, sample_rate)
    pcm = np.round(samples * 32767).astype("<i2")
    path = Path(path)
    with atomic_write(path, ".wav") as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return path


def piano_roll(
    melody,
    cell_width: int = 8,
    cell_height: int = 6,
    low: int | None = None,
    high: int | None = None,
    primer=None,
) -> np.ndarray:
    """An RGB piano roll: steps left to right, pitches bottom (low) to top (high).

    Notes are blue bars with their first column red, so repeated notes stay distinct; C rows are
    tinted, black-key rows shaded, and a grey line marks each bar (16 steps, counted from the
    melody's start). A primer comes first: its steps are shaded darker and its notes grey (a melody
    opening with holds extends the primer's last note, grey too).

    :param melody: 1-D tokens 0..37.
    :param cell_width: pixels per step.
    :param cell_height: pixels per semitone.
    :param low: lowest MIDI pitch shown (default 48, C3).
    :param high: highest MIDI pitch shown (default 83, B5).
    :param primer: 1-D tokens before the melody (``None``: none).
    :returns: (H, W, 3) uint8 with ``H = (high - low + 1) * cell_height``,
        ``W = (len(primer) + len(melody)) * cell_width``.
    """
    melody, start = primed(melody, primer)
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
    grid[:, :start] = (grid[:, :start] * _PRIMER_SHADE).astype(np.uint8)
    notes = [(p, a, b) for p, a, b in melody_to_notes(melody) if low <= p <= high]
    for pitch, a, b in notes:
        grid[high - pitch, a:b] = _PRIMER_NOTE if a < start else _NOTE
    image = np.repeat(np.repeat(grid, cell_height, axis=0), cell_width, axis=1)
    for pitch, a, _ in notes:
        r = (high - pitch) * cell_height
        image[r : r + cell_height, a * cell_width : a * cell_width + max(1, cell_width // 4)] = (
            _PRIMER_ONSET if a < start else _ONSET
        )
    bars = image[:, start % 16 * cell_width :: 16 * cell_width]
    bars[np.all(bars == _BACKGROUND, axis=-1)] = _BAR_LINE
    return image


@per_melody
def save_piano_roll(melody, path: str | Path, title: str | None = None, *, primer=None) -> Path:
    """Save a piano roll PNG with note names on the vertical axis (matplotlib, Agg backend).

    Steps are numbered from the melody's start; a primer takes the negative steps, shaded, and only
    its last :data:`PNG_PRIMER_STEPS` steps are drawn (the axis label says so when it is cut).

    :param melody: 1-D tokens 0..37; a 2-D array writes one file per row (``<stem>_000.png``, …)
        and returns the list of paths.
    :param path: destination ``.png`` file (written atomically).
    :param title: optional figure title.
    :param primer: 1-D tokens before the melody (``None``: none).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    full = 0 if primer is None else len(validate_melody(primer, name="primer"))
    shown = None if primer is None else validate_melody(primer, name="primer")[-PNG_PRIMER_STEPS:]
    line, start = primed(melody, shown)
    pitches = [p for p, _, _ in melody_to_notes(line)]
    low = max(MIN_MIDI, min(pitches, default=60) - 2)
    high = min(MAX_MIDI, max(pitches, default=72) + 2)
    image = piano_roll(line[start:], cell_width=8, cell_height=4, low=low, high=high, primer=shown)
    fig = Figure(figsize=(max(4.0, 0.18 * len(line) + 1.5), max(2.5, 0.16 * (high - low + 1) + 1.0)))
    ax = fig.add_subplot()
    extent = (-start, len(line) - start, low - 0.5, high + 0.5)
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=extent)
    ticks = list(range(low, high + 1))
    ax.set_yticks(ticks, [token_name(midi_to_class(p)) for p in ticks], fontsize=7)
    every = 4 if len(line) <= 64 else 16
    ax.set_xticks(range(-(start // every) * every, len(line) - start + 1, every))
    ax.tick_params(axis="x", labelsize=7)
    cut = f", last {start} of {full} steps shown" if full > start else ""
    ax.set_xlabel("step (16th note)" + (f"; shaded: the primer{cut}" if start else ""))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_write(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


class HumanRenderer:
    """``render_mode="human"``: a pygame window that shows each frame (an RGB array) at ``fps`` frames/s.

    pygame is imported by the constructor, not with this module, so an env asked for ``"human"``
    fails when it is made, with one line naming the install; the window opens at the first frame.

    :param fps: frames per second (``show`` waits to keep this pace; the env's ``render_fps``).
    :param caption: window title.
    :param scale: pixels per frame pixel.
    :raises gymnasium.error.DependencyNotInstalled: pygame is missing (:data:`HUMAN_RENDER_MISSING`).
    """

    def __init__(self, fps: float, caption: str = "MelodyCompose-v0", scale: int = 2) -> None:
        try:
            import pygame
        except ImportError as err:
            raise DependencyNotInstalled(HUMAN_RENDER_MISSING) from err
        if not fps > 0 or isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f"fps must be > 0 and scale a positive int, got {fps!r} and {scale!r}")
        self._pygame, self.fps, self.caption, self.scale = pygame, fps, caption, scale
        self._window = self._clock = None

    def show(self, frame: np.ndarray) -> None:
        """Draw ``frame`` ``(H, W, 3)`` uint8 in the window (opened, or resized, to fit it)."""
        pygame = self._pygame
        size = (frame.shape[1] * self.scale, frame.shape[0] * self.scale)
        if self._window is None:
            pygame.display.init()  # the display only: no audio device is opened
            pygame.display.set_caption(self.caption)
            self._clock = pygame.time.Clock()
        if self._window is None or self._window.get_size() != size:
            self._window = pygame.display.set_mode(size)
        surface = pygame.surfarray.make_surface(np.ascontiguousarray(np.asarray(frame, np.uint8).swapaxes(0, 1)))
        self._window.blit(pygame.transform.scale(surface, size), (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        """Close the window (a later ``show`` opens a new one)."""
        if self._window is not None:
            self._pygame.display.quit()
            self._window = None


__all__ = [
    "HUMAN_RENDER_MISSING",
    "PNG_PRIMER_STEPS",
    "HumanRenderer",
    "piano_roll",
    "save_piano_roll",
    "synthesize",
    "write_wav",
]
