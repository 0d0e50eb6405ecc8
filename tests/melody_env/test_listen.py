"""WAV synthesis and piano rolls: sizes, pitches and colours checked against hand-worked numbers."""

import sys
import wave

import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

from melody_env.listen import HUMAN_RENDER_MISSING, HumanRenderer, piano_roll, save_piano_roll, synthesize, write_wav


def read_wav(path):
    with wave.open(str(path), "rb") as wav:
        params = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes())
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return params, samples


def test_wav_header_length_and_amplitude(tmp_path):
    # 16 steps = 4 quarters; at 80 qpm a quarter lasts 0.75 s → 3 s → 66150 frames at 22050 Hz.
    path = write_wav([14, *[1] * 15], tmp_path / "c4.wav")
    (channels, width, rate, frames), samples = read_wav(path)
    assert (channels, width, rate, frames) == (1, 2, 22050, 66150)
    assert np.abs(samples).max() == round(0.8 * 32767)  # normalised to 80 % of full scale
    assert [p.name for p in tmp_path.iterdir()] == ["c4.wav"]  # no temp file left behind


def test_wav_tempo_and_rate_options(tmp_path):
    # 8 steps = 2 quarters at 120 qpm = 1 s → 8000 frames at 8000 Hz.
    (_, _, rate, frames), _ = read_wav(
        write_wav([21, 1, 1, 1, 0, 1, 1, 1], tmp_path / "g.wav", qpm=120, sample_rate=8000)
    )
    assert (rate, frames) == (8000, 8000)


def test_synth_fundamental_is_the_note_pitch():
    samples = synthesize([14, *[1] * 15], sample_rate=22050)  # C4 = 261.63 Hz for 3 s
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / 22050)
    assert freqs[np.argmax(spectrum)] == pytest.approx(261.63, abs=0.5)


def test_rest_is_silent():
    samples = synthesize([14, 1, 0, 1], sample_rate=8000)  # 4 steps = 0.75 s = 6000 samples
    assert len(samples) == 6000
    assert np.all(samples[3000:] == 0) and np.abs(samples[:3000]).max() > 0.5


def test_piano_roll_shape_and_note_row():
    melody = [14, 1, 14, 0]  # C4 for 2 steps, C4 again for 1, then a rest
    image = piano_roll(melody, cell_width=8, cell_height=6)
    assert image.shape == (36 * 6, 4 * 8, 3) and image.dtype == np.uint8
    row = (83 - 60) * 6 + 3  # B5 at the top row, C4 is 23 rows below
    blue, red = np.array([52, 101, 164]), np.array([204, 68, 34])
    np.testing.assert_array_equal(image[row, 0], red)  # onset of the first C4
    np.testing.assert_array_equal(image[row, 12], blue)  # it sounds through step 1
    np.testing.assert_array_equal(image[row, 16], red)  # the repeated C4 gets its own onset
    assert not np.array_equal(image[row, 28], blue)  # step 3 is a rest
    assert not np.any(np.all(image[: (83 - 61) * 6] == blue, axis=-1))  # nothing above C4


def test_piano_roll_range_option():
    image = piano_roll([2, 37], cell_width=1, cell_height=1, low=48, high=83)
    assert image.shape == (36, 2, 3)
    np.testing.assert_array_equal(image[35, 0], [204, 68, 34])  # C3 on the bottom row
    np.testing.assert_array_equal(image[0, 1], [204, 68, 34])  # B5 on the top row


def test_save_piano_roll_writes_png(tmp_path):
    path = save_piano_roll([14, 1, 16, 1, 18, 1, 0, 1], tmp_path / "roll.png", title="C D E")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wav_plays_the_primer_first(tmp_path):
    # Primer A4 for 4 steps, then the melody's 4 steps of rest: 8 steps at 120 qpm and 8000 Hz = 8000 frames.
    (_, _, _, frames), samples = read_wav(write_wav([0, 1, 1, 1], tmp_path / "p.wav", 120, 8000, primer=[33, 1, 1, 1]))
    assert frames == 8000
    assert np.abs(samples[:3000]).max() > 0 and np.all(samples[4000:] == 0)
    expected = np.round(synthesize([33, 1, 1, 1, 0, 1, 1, 1], 120, 8000) * 32767).astype("<i2")
    np.testing.assert_array_equal(samples, expected)


def test_batch_writers_write_one_file_per_row(tmp_path):
    melodies = np.array([[14, 1, 1, 1], [16, 1, 0, 1]])
    wavs = write_wav(melodies, tmp_path / "m.wav", sample_rate=8000)
    pngs = save_piano_roll(melodies, tmp_path / "m.png", primer=[21])
    assert [p.name for p in wavs] == ["m_000.wav", "m_001.wav"]
    assert [p.name for p in pngs] == ["m_000.png", "m_001.png"]
    assert read_wav(wavs[1])[1][:100].any() and pngs[0].read_bytes()[:4] == b"\x89PNG"


def test_piano_roll_shades_the_primer_and_greys_its_notes():
    # Primer C4 (2 steps); the melody holds it 1 more step, then plays D4.
    image = piano_roll([1, 16], cell_width=1, cell_height=1, primer=[14, 1])
    assert image.shape == (36, 4, 3)
    c4, d4, e4 = 83 - 60, 83 - 62, 83 - 64
    grey, dark_grey, red = [150] * 3, [90] * 3, [204, 68, 34]
    np.testing.assert_array_equal(image[c4, :3], [dark_grey, grey, grey])  # onset, then held into the melody
    np.testing.assert_array_equal(image[d4, 3], red)  # the melody's own note keeps its colours
    np.testing.assert_array_equal(image[e4, 0], (np.array([250, 250, 246]) * 0.85).astype(np.uint8))  # shaded
    np.testing.assert_array_equal(image[e4, 3], [250, 250, 246])  # not shaded after the primer
    np.testing.assert_array_equal(image[d4, 2], [190, 190, 190])  # the bar line is at the melody's start
    np.testing.assert_array_equal(piano_roll([1, 16])[:, :8], piano_roll([0, 16])[:, :8])  # no primer: silence


def test_human_renderer_without_pygame_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)  # import pygame raises ImportError
    with pytest.raises(DependencyNotInstalled, match=r'pip install "rl-tuner\[human\]"') as info:
        HumanRenderer(fps=16 / 3)
    assert info.value.args[0] == HUMAN_RENDER_MISSING and "\n" not in HUMAN_RENDER_MISSING


def test_human_renderer_shows_frames(monkeypatch):
    pygame = pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    window = HumanRenderer(fps=1000, scale=2)
    frame = piano_roll([14, 1, 16], cell_width=2, cell_height=2)
    window.show(frame)
    window.show(frame)  # same window, same size
    shown = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
    assert shown.shape == (frame.shape[0] * 2, frame.shape[1] * 2, 3)
    np.testing.assert_array_equal(shown[::2, ::2], frame)
    window.close()
    assert not pygame.display.get_init()
    with pytest.raises(ValueError, match="fps must be > 0"):
        HumanRenderer(fps=0)
