"""The listening page loads in a real headless browser and its audio elements point to real files."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from benchmarks.page import Sample, write_listening_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


def _tone(path: Path, seconds: float = 0.2, rate: int = 8000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _page(tmp_path: Path, wav_name: str) -> Path:
    (tmp_path / "samples").mkdir()
    _tone(tmp_path / "samples" / "a.wav")
    sample = Sample(wav=f"samples/{wav_name}", midi="samples/a.mid", png="samples/a.png", notes="C4 - - off")
    models = {"note_rnn": {"notes_not_in_key": 0.01, "autocorrelation_lag1": -0.2}}
    paper = {"note_rnn": {"notes_not_in_key": 0.001}}
    return write_listening_page(tmp_path, models, paper, {"note_rnn": [sample]}, subtitle="test")


def _dump_dom(page: Path, tmp_path: Path) -> str:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


def test_page_table_shows_ours_beside_paper(tmp_path: Path) -> None:
    text = _page(tmp_path, "a.wav").read_text()
    assert "1.00 %" in text and "paper 0.10 %" in text and "-0.200" in text
    assert 'src="samples/a.wav"' in text


@needs_browser
def test_page_loads_audio_in_headless_chromium(tmp_path: Path) -> None:
    dom = _dump_dom(_page(tmp_path, "a.wav"), tmp_path)
    assert re.search(r'data-audio-status="ok"', dom), dom[-500:]


@needs_browser
def test_page_reports_missing_audio(tmp_path: Path) -> None:
    dom = _dump_dom(_page(tmp_path, "missing.wav"), tmp_path)
    assert 'data-audio-status="error:' in dom
