"""Reused tuners are checked against the settings asked for, and labelled with what they really are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents import RLTuner
from benchmarks.provenance import code_state
from benchmarks.reproduction.reuse import (
    Asked,
    SettingsError,
    check_reused,
    planned_timesteps,
    reuse_mismatches,
    steps_label,
    timing_label,
)
from melody_env.note_rnn import load_default_note_rnn


def test_planned_timesteps_rounds_up_to_whole_rounds_of_melodies() -> None:
    assert planned_timesteps(1000, 64) == 1024  # 16 rounds of 64 = 1,024 >= 1,000
    assert planned_timesteps(320, 64) == 320
    assert planned_timesteps(1_000_000, 64) == 1_000_000
    assert planned_timesteps(1, 16) == 16


def test_steps_label_one_number_or_each_tuner() -> None:
    assert steps_label({"q": 1024, "psi": 1024}) == "1,024 env steps per tuner"
    assert steps_label({"q": 200_000, "g": 1_024}) == "env steps Q 200,000, G 1,024"


def test_timing_label_says_which_tuners_were_reused() -> None:
    assert timing_label(630.0, {"q": 240.0, "psi": 228.0}, []) == "10.5 min (training: Q 4.0 min, Ψ 3.8 min)"
    assert timing_label(12.0, {"q": 84.0, "psi": 78.0}, ["q", "psi"]) == (
        "0.2 min (reused, not retrained: Q, Ψ; their earlier training took 1.4, 1.3 min)"
    )
    assert timing_label(90.0, {"q": 84.0, "psi": 78.0}, ["psi"]) == (
        "1.5 min (training: Q 1.4 min; reused, not retrained: Ψ; their earlier training took 1.3 min)"
    )


def _saved(tmp_path: Path, steps: int = 200_000, n_envs: int = 64, c: float | None = 0.5) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    tuner = RLTuner("q", None, prior=load_default_note_rnn(), n_envs=n_envs, seed=0, exploration_steps=steps // 2)
    tuner.num_timesteps = planned_timesteps(steps, n_envs)  # as if trained: learn() rounds up like this
    tuner.save(models / "q.zip")
    record = {"steps": tuner.num_timesteps, "seconds": 84.0} | ({} if c is None else {"c": c})
    (models / "q.json").write_text(json.dumps(record))
    return models


def test_reuse_mismatches_names_each_difference(tmp_path: Path) -> None:
    tuner = RLTuner.load(_saved(tmp_path) / "q.zip")
    assert reuse_mismatches(tuner, {"c": 0.5}, Asked(200_000, 64, 0, 0.5)) == []
    assert reuse_mismatches(tuner, {"c": 0.5}, Asked(1000, 64, 0, 1.0)) == [
        "env steps: trained with 200,000, asked 1,024 (--steps 1000)",
        "ε ramp steps: trained with 100,000, asked 500 (--steps 1000)",
        "c: trained with 0.5, asked 1.0 (--c)",
    ]
    assert reuse_mismatches(tuner, {}, Asked(200_000, 32, 3, 0.5)) == [
        "melodies in parallel: trained with 64, asked 32 (--n-envs)",
        "seed: trained with 0, asked 3 (--seed)",
    ]


def test_check_reused_refuses_other_settings(tmp_path: Path) -> None:
    models = _saved(tmp_path)
    assert check_reused(["q", "psi"], Asked(200_000, 64, 0, 0.5), models) == ["q"]
    with pytest.raises(SettingsError, match=r"q\.zip was trained with other settings \(env steps: trained with "
                       r"200,000, asked 1,024 \(--steps 1000\);.*or another --out"):  # fmt: skip
        check_reused(["q"], Asked(1000, 64, 0, 0.5), models)


def test_check_reused_refuses_a_tuner_of_another_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = _saved(tmp_path)
    record = json.loads((models / "q.json").read_text())
    assert check_reused(["q"], Asked(200_000, 64, 0, 0.5), models) == ["q"]  # no commit recorded: reused, said
    assert "q.json does not record its commit (older version)" in capsys.readouterr().out
    (models / "q.json").write_text(json.dumps({**record, "code": code_state()}))
    assert check_reused(["q"], Asked(200_000, 64, 0, 0.5), models) == ["q"]
    (models / "q.json").write_text(json.dumps({**record, "code": {"commit": "0" * 40, "dirty": False}}))
    with pytest.raises(SettingsError, match=r"trained at commit 000000000000, .*--allow-mixed-commits"):
        check_reused(["q"], Asked(200_000, 64, 0, 0.5), models)
    assert check_reused(["q"], Asked(200_000, 64, 0, 0.5), models, allow_mixed=True) == ["q"]


def test_check_reused_warns_when_c_is_not_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = _saved(tmp_path, c=None)
    assert check_reused(["q"], Asked(200_000, 64, 0, 0.5), models) == ["q"]
    assert "q.json does not record c (older version): assuming c = 0.5" in capsys.readouterr().out
