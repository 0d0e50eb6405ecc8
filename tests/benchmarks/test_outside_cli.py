"""``rl-tuner outside`` end to end on a tiny stand-in corpus, its report, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import benchmarks.outside.cli as outside_cli
from benchmarks.outside.cli import model_specs
from benchmarks.outside.features import FEATURE_NAMES
from melody_env.data import Corpus
from rl_tuner_cli.main import main as rl_tuner


def _corpus(source: str = "music21") -> Corpus:
    """Eight held-out stepwise C-major melodies of 40 steps and one training melody."""
    rng = np.random.default_rng(0)
    melodies = [np.array([t for c in rng.choice([14, 16, 18, 19, 21], 10) for t in (c, 1, 1, 1)]) for _ in range(9)]
    return Corpus(melodies=melodies, ids=[f"t{i}:0" for i in range(9)], is_valid=np.array([True] * 8 + [False]))


def _refuse_nan(text: str) -> None:
    raise AssertionError(f"non-standard JSON constant {text}")


def test_outside_writes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outside_cli, "load_corpus", _corpus)
    out = tmp_path / "outside"
    argv = ["outside", "--models", "note_rnn", "--melodies", "12", "--pairs", "300", "--key-melodies", "3"]
    assert rl_tuner([*argv, "--out", str(out)]) == 0
    report = json.loads((out / "outside.json").read_text(), parse_constant=_refuse_nan)
    assert report["validation"]["melodies"] == 8 and report["settings"]["melodies"] == 12
    model = report["models"]["note_rnn"]
    assert model["melodies"] == 12 and set(model["features"]) == set(FEATURE_NAMES)
    assert model["key"]["analysed"] + model["key"]["no_notes"] == 3
    assert report["command"].startswith("rl-tuner outside --models note_rnn")
    text = (out / "outside.md").read_text()
    assert "## Summary" in text and "**Closest to real tunes" in text and "| Note RNN |" in text
    assert "## Key check" in text and "validation halves" in text


def test_model_specs_name_tuners_by_their_file(tmp_path: Path) -> None:
    (tmp_path / "q.zip").write_bytes(b"")
    assert model_specs(f"note_rnn, {tmp_path / 'q.zip'}") == {"note_rnn": "note_rnn", "q": str(tmp_path / "q.zip")}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "q.zip").write_bytes(b"")
    with pytest.raises(ValueError, match="two --models entries are named 'q'"):
        model_specs(f"{tmp_path / 'q.zip'},{tmp_path / 'other' / 'q.zip'}")
    with pytest.raises(ValueError, match="--models is empty"):
        model_specs(" , ")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--models", "missing.zip"], "neither 'note_rnn' nor an existing tuner .zip file"),
        (["--melodies", "0"], "--melodies must be at least 1"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(flags: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert rl_tuner(["outside", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("rl-tuner outside: error:") and err.count("\n") == 1


def test_a_corpus_without_validation_melodies_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert rl_tuner(["outside", "--corpus", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("rl-tuner outside: error: corpus source")
    (tmp_path / "empty").mkdir()
    assert rl_tuner(["outside", "--corpus", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_too_few_validation_melodies_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    small = _corpus()
    small.is_valid[3:] = False
    monkeypatch.setattr(outside_cli, "load_corpus", lambda source: small)
    assert rl_tuner(["outside"]) == 2
    assert "has 3 validation melodies of 32 steps; the reference needs 4" in capsys.readouterr().err


def test_a_file_that_is_no_tuner_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"not a zip")
    assert rl_tuner(["outside", "--models", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-tuner outside: error:") and err.count("\n") == 1
