"""The ``rl-tuner`` subcommands run end to end on tiny inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.cli import main
from melody_env.encoding import read_melody

DATA = Path(__file__).parents[1] / "melody_env" / "data"


def test_generate_then_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--n", "2", "--length", "16", "--wav", "--png", "--out", str(tmp_path)]) == 0
    midi = tmp_path / "melody_000.mid"
    assert {p.name for p in tmp_path.iterdir()} >= {"melody_000.mid", "melody_001.wav", "melody_001.png"}
    printed = capsys.readouterr().out.splitlines()[0]
    melody = read_melody(midi)
    assert len(melody) == 16 and printed.startswith(str(midi))
    (tmp_path / "melody_000.wav").unlink()
    assert main(["render", str(midi), "--wav"]) == 0
    assert (tmp_path / "melody_000.wav").stat().st_size > 44


def test_generate_is_seeded(tmp_path: Path) -> None:
    for name in ("a", "b"):
        main(["generate", "--n", "3", "--seed", "5", "--out", str(tmp_path / name)])
    for i in range(3):
        a, b = (read_melody(tmp_path / n / f"melody_{i:03d}.mid") for n in ("a", "b"))
        np.testing.assert_array_equal(a, b)


def test_corpus_summary_counts_skipped_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    assert main(["corpus", str(DATA)]) == 0
    out = capsys.readouterr().out.splitlines()
    # tiny.abc: 4 tunes, one unparsable and one with too few pitches, so 2 melodies.
    assert "tunes: 4" in out and "melodies: 2" in out
    assert "skipped: {'too_few_pitches': 1, 'unparsable': 1}" in out


def test_train_saves_a_loadable_tuner(tmp_path: Path) -> None:
    out = tmp_path / "psi"
    assert main(["train", "--algorithm", "psi", "--steps", "320", "--melodies", "8", "--out", str(out),
                 "--verbose", "0"]) == 0  # fmt: skip
    from agents import RLTuner

    assert RLTuner.load(f"{out}.zip").algorithm == "psi"


def test_unknown_subcommand_exits_with_usage() -> None:
    with pytest.raises(SystemExit) as info:
        main(["compose-symphony"])
    assert info.value.code == 2
