"""The listening page: samples side by side on one pitch axis, primers shown, in a real headless browser."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from benchmarks.page import OutsideSummary, Sample, notes_text, write_listening_page
from benchmarks.svg_roll import (
    COLOURS,
    PRIMER_PX,
    ROW_PX,
    STEP_PX,
    leading_holds,
    piano_roll_svg,
    shared_pitch_range,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
MODELS = ("note_rnn", "q", "psi", "g", "rl_only")

# Measures the laid-out page: per sample row, the top and left of each roll, and the rolls' heights.
_MEASURE = """<script>
window.addEventListener('load', () => {
  const rows = Array.from(document.querySelectorAll('table.samples tbody tr')).map(tr =>
    Array.from(tr.querySelectorAll('svg.roll')).map(s => {
      const r = s.getBoundingClientRect(); return [Math.round(r.top), Math.round(r.left), Math.round(r.height)];
    }));
  const box = document.querySelector('.scroll');
  document.body.dataset.layout = JSON.stringify({rows, scrolls: box.scrollWidth > box.clientWidth});
});
</script></body>"""


def _tone(path: Path, seconds: float = 0.2, rate: int = 8000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _sample(wav: str, melody: tuple[int, ...], primer: int | None = 14) -> Sample:
    return Sample(wav=wav, midi="samples/a.mid", png="samples/a.png", melody=melody, primer=primer)


def _page(tmp_path: Path, wav_name: str, per_model: int = 1) -> Path:
    (tmp_path / "samples").mkdir()
    _tone(tmp_path / "samples" / "a.wav")
    # Model k's melodies climb from C4 by k semitones, so the models' ranges differ (C4..E4 for the last).
    samples = {
        m: [_sample(f"samples/{wav_name}", (14 + k, 1, 0, 1, 14 + k, 1, 1, 1)) for _ in range(per_model)]
        for k, m in enumerate(MODELS)
    }
    models = {"note_rnn": {"notes_not_in_key": 0.01, "autocorrelation_lag1": -0.2, "distinct_melodies": 0.5}}
    paper = {"note_rnn": {"notes_not_in_key": 0.001}}
    return write_listening_page(tmp_path, models, paper, samples, subtitle="test")


def _dump_dom(page: Path, tmp_path: Path, width: int = 1400) -> str:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={width},1000", "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


def test_page_table_shows_ours_beside_paper(tmp_path: Path) -> None:
    text = _page(tmp_path, "a.wav").read_text()
    assert "1.00 %" in text and "paper 0.10 %" in text and "-0.200" in text
    assert "<td>distinct melodies</td><td>50.00 %</td>" in text
    assert 'src="samples/a.wav"' in text


def test_outside_section_appears_only_when_given_and_escapes_names(tmp_path: Path) -> None:
    assert "Judged from outside" not in _page(tmp_path, "a.wav").read_text()
    outside = OutsideSummary(
        1_000,
        "**Closest to real tunes: <Q & co>**, mean OA 0.800.",
        ["set", "mean OA, rule-free"],
        [["validation halves (reference)", "0.900"], ["<Q & co>", "0.800"]],
    )
    samples = {"note_rnn": [_sample("samples/a.wav", (14, 1, 0, 1))]}
    text = write_listening_page(tmp_path, {"note_rnn": {"notes_not_in_key": 0.01}}, {}, samples, outside=outside)
    text = text.read_text()
    assert text.index("<h2 id='table1'>") < text.index("<h2 id='outside'>") < text.index("<h2 id='figures'>")
    assert "<a href='#outside'>Judged from outside</a>" in text and "The first 1,000 melodies" in text
    assert "Yang &amp; Lerch (2018)" in text and '<a href="outside.md">outside.md</a>' in text
    assert "<p><strong>Closest to real tunes: &lt;Q &amp; co&gt;</strong>, mean OA 0.800.</p>" in text
    assert "<tr><td>&lt;Q &amp; co&gt;</td><td>0.800</td></tr>" in text and "<Q" not in text


def test_shared_pitch_range_covers_every_note_and_primer_in_whole_octaves() -> None:
    assert shared_pitch_range([(16, 1, 0)]) == (60, 71)  # D4 alone: the octave C4..B4
    assert shared_pitch_range([(14, 1), (26,)], [2]) == (48, 83)  # C4, C5 and a C3 primer: C3..B5
    assert shared_pitch_range([(37, 0)], [None]) == (72, 83)  # B5: C5..B5
    assert shared_pitch_range([(0, 1, 1)]) == (60, 71)  # nothing sounds


def test_notes_text_marks_beats_and_bars() -> None:
    melody = [14, 1, 1, 1, 16, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 18]
    assert notes_text(melody) == "C4 - - - | D4 - off - | - - - - | - - - - ‖ E4"


def test_piano_roll_svg_draws_notes_and_primer_on_the_given_axis() -> None:
    svg = piano_roll_svg((16, 1, 1, 0), low=60, high=71, primer=14)
    assert 'data-low="60" data-high="71"' in svg
    # D4 (MIDI 62) is 9 rows below B4 (71): y = 9 * ROW_PX; held 3 steps (the 0 ends it).
    assert re.search(rf'<rect x="[\d.]+" y="{9 * ROW_PX}" width="20" height="{ROW_PX}" fill="{COLOURS["note"]}">'
                     r"<title>D4, step 1–3</title>", svg)  # fmt: skip
    # The primer C4 (MIDI 60, bottom row: 11 rows below B4) sits in its own column left of the melody.
    assert f'y="{11 * ROW_PX}" width="{PRIMER_PX}" height="{ROW_PX}" fill="{COLOURS["primer"]}"><title>primer C4' in svg
    # A melody opening with holds continues the primer's note, drawn in the primer's colour: 2 steps.
    held = piano_roll_svg((1, 1, 16), low=60, high=71, primer=14)
    assert re.search(rf'y="{11 * ROW_PX}" width="{2 * STEP_PX - 1}" height="{ROW_PX}" fill="{COLOURS["primer"]}">'
                     r"<title>primer C4 held into the melody \(steps 1–2\)", held)  # fmt: skip
    assert "held into" not in svg and leading_holds((1, 1, 16)) == 2 and leading_holds((1, 1)) == 2
    with pytest.raises(ValueError, match=r"pitch range 60\.\.71 must hold every note \(got \[72\]\); widen it"):
        piano_roll_svg((26,), low=60, high=71)


def test_page_puts_sample_i_of_every_model_in_row_i_on_one_axis(tmp_path: Path) -> None:
    text = _page(tmp_path, "a.wav", per_model=2).read_text()
    body = text.split('<table class="samples"', 1)[1]
    rows = re.findall(r"<tr><th class=\"index\">(#\d)<br>primer<br>C4</th>(.*?)</tr>", body)
    assert [r[0] for r in rows] == ["#0", "#1"]
    assert all(r[1].count("<svg") == len(MODELS) for r in rows)
    assert set(re.findall(r'data-low="(\d+)" data-high="(\d+)"', text)) == {("60", "71")}  # C4..E4 fit in C4..B4
    assert "every roll: C4 to B4" in text


@needs_browser
def test_page_loads_audio_in_headless_chromium(tmp_path: Path) -> None:
    dom = _dump_dom(_page(tmp_path, "a.wav"), tmp_path)
    assert re.search(r'data-audio-status="ok"', dom), dom[-500:]


@needs_browser
def test_page_reports_missing_audio(tmp_path: Path) -> None:
    dom = _dump_dom(_page(tmp_path, "missing.wav"), tmp_path)
    assert 'data-audio-status="error:' in dom


def _layout(tmp_path: Path, width: int) -> dict:
    page = _page(tmp_path, "a.wav", per_model=2)
    page.write_text(page.read_text().replace("</body>", _MEASURE))
    dom = _dump_dom(page, tmp_path, width)
    return json.loads(html.unescape(re.search(r'data-layout="([^"]*)"', dom).group(1)))


@needs_browser
def test_samples_sit_side_by_side_at_the_same_height_in_chromium(tmp_path: Path) -> None:
    layout = _layout(tmp_path, 1400)
    assert len(layout["rows"]) == 2 and not layout["scrolls"]
    for row in layout["rows"]:
        tops, lefts, heights = zip(*row, strict=True)
        assert len(row) == len(MODELS) and len(set(tops)) == 1  # one line, not wrapped
        assert list(lefts) == sorted(lefts)  # in the models' order
        assert len({*heights, *(h for r in layout["rows"] for *_, h in r)}) == 1  # every roll the same height


@needs_browser
def test_narrow_window_scrolls_sideways_instead_of_wrapping(tmp_path: Path) -> None:
    layout = _layout(tmp_path, 700)
    assert layout["scrolls"]
    assert all(len({top for top, _, _ in row}) == 1 for row in layout["rows"])
