"""``rl-tuner study``: one line and exit 2 for bad input; export, report and the labelled simulation."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from listening_study import analysis, db, prepare
from listening_study.cli import main
from rl_tuner_cli.main import main as rl_tuner_main

from .conftest import write_results

PAPER = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "paper"


def _one_line_error(capsys, argv: list[str], *needles: str) -> None:
    try:
        code = rl_tuner_main(["study", *argv])
    except SystemExit as exit_:  # argparse refuses the command line itself
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("rl-tuner study"), err
    for needle in needles:
        assert needle in err, err


def test_a_folder_without_audio_or_melodies_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    _one_line_error(capsys, ["serve", str(tmp_path / "empty")], "no audio or melodies of two models",
                    "run rl-tuner demo")  # fmt: skip
    assert not (tmp_path / "empty" / "study" / db.DB_NAME).exists()
    _one_line_error(capsys, ["serve", str(tmp_path / "missing")], "No such folder")
    _one_line_error(capsys, ["serve", str(write_results(tmp_path / "r")), "--models", "q,zz"],
                    "no melodies for model(s) zz")  # fmt: skip
    _one_line_error(capsys, ["serve", str(tmp_path / "r"), "--checks", "loud"], "unknown check 'loud'")
    _one_line_error(capsys, ["report", str(tmp_path / "r")], "No study here")
    _one_line_error(capsys, ["export", str(tmp_path / "empty")], "No study here")


def test_corrupt_melody_files_are_skipped_and_counted(tmp_path: Path, capsys) -> None:
    results = write_results(tmp_path / "r")
    (results / "melodies_broken.npz").write_bytes(b"not a zip")
    design, skipped = prepare.build(results, tmp_path / "study", models=None)
    assert design.models == ("note_rnn", "q", "psi", "g") and len(skipped) == 1 and "melodies_broken" in skipped[0]


def _wav_with_metadata(path: Path, seconds: float = 0.3) -> None:
    pcm = (np.sin(np.arange(int(8000 * seconds)) / 3) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    data = bytearray(path.read_bytes())
    info = b"INFOISFT" + (10).to_bytes(4, "little") + b"q_0 model\x00"
    data += b"LIST" + len(info).to_bytes(4, "little") + info
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_rendered_samples_are_used_without_their_metadata(tmp_path: Path) -> None:
    for model in ("q", "g"):
        (tmp_path / "r" / "samples" / model).mkdir(parents=True)
        for i in range(2):
            _wav_with_metadata(tmp_path / "r" / "samples" / model / f"{model}_{i}.wav")
    design, _ = prepare.build(tmp_path / "r", tmp_path / "study", checks=("identical",))
    assert design.models == ("q", "g") and design.melodies == {"q": 2, "g": 2}
    files = sorted((tmp_path / "study" / "audio").glob("*.wav"))
    assert len(files) == 4 + 2 * 8 and len({f.stat().st_size for f in files}) == 1
    assert all(b"LIST" not in f.read_bytes() and b"model" not in f.read_bytes() for f in files)
    con = db.connect(tmp_path / "study")
    assert db.read_meta(con)["melody_seconds"] == pytest.approx(0.3)


def test_export_writes_csv_and_json(make_study, tmp_path: Path, capsys) -> None:
    study = make_study(pairs=3, per_model=2)
    con = db.connect(study)
    design = db.read_design(con)
    token = "t" * 20
    db.add_listener(con, token, design)
    for position, likert in ((1, 2), (2, 6)):
        db.record(con, token, db.Rating(f"sub{position}abcdef", position, likert, 1, 1, 0.4, 0.4), 7, 5)
    assert main(["export", str(study), "--out", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "ratings.csv").open()))
    assert [int(r["likert"]) for r in rows] == [2, 6] and tuple(rows[0]) == db.RATING_COLUMNS
    document = json.loads((tmp_path / "out" / "ratings.json").read_text())
    assert [r["likert"] for r in document["ratings"]] == [2, 6] and document["listeners"][0]["ratings"] == 2
    assert document["study"]["pairs"] == 3


def test_a_report_needs_ratings(make_study, capsys) -> None:
    study = make_study(pairs=3, per_model=2)
    _one_line_error(capsys, ["report", str(study)], "0 usable model-pair ratings")


def test_the_simulation_is_labelled_and_recovers_the_known_order(tmp_path: Path, capsys) -> None:
    """Simulated listeners prefer the higher rMT: the Note RNN, far below the tuners on rMT, must come last."""
    study = tmp_path / "sim"
    argv = ["simulate", str(PAPER), "--study", str(study), "--listeners", "12", "--qpm", "1200"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "SIMULATED listeners" in out and "not evidence of what people prefer" in out
    report = (study / "report.md").read_text()
    assert "**Simulated listeners.** 12 of these listeners are simulated" in report.splitlines()[2]
    assert (study / "figure3.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    con = db.connect(study)
    rows, meta = db.ratings(con), db.read_meta(con)
    assert {p["kind"] for p in db.listeners(con)} == {"simulated"}
    failed = analysis.failed_checks(rows, 7)
    c = analysis.comparisons(rows, meta["models"], 7, frozenset(failed))
    theta = analysis.bradley_terry(*analysis.decisive(c)[:2], len(c.models))
    assert c.models[int(np.argmin(theta))] == "note_rnn"
    assert f"Excluded for a failed attention check: **{len(failed)}**" in report
    assert main(argv) == 2 and "already there" in capsys.readouterr().err  # never over an existing study


def test_python_m_listening_study_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "listening_study", "--help"], capture_output=True, text=True,
                         timeout=60, check=True).stdout  # fmt: skip
    assert "serve" in out and "report" in out and "export" in out
