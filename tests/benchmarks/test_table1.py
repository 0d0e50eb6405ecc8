"""The reproduction runs end to end on a tiny budget, writes what it promises, and resumes honestly; with
``--outside N`` it also judges the melodies from outside (here against a tiny hand-written reference)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import benchmarks.sweep.outside as sweep_outside
from benchmarks.evaluate import compose, log_prior, music_theory
from benchmarks.outside.features import FEATURE_NAMES
from benchmarks.reproduction.reuse import SettingsError
from benchmarks.reproduction.table1 import MODELS, Args, main, reproduce, train_and_score
from benchmarks.sweep.outside import ReferenceSource
from melody_env.note_rnn import NoteRNN
from reward_rules import TABLE1_KEYS, music_theory_rewards
from reward_rules.tokens import token_name


def test_log_prior_matches_stepping_the_reward_rnn() -> None:
    torch.manual_seed(0)
    rnn = NoteRNN().eval()
    primers, melodies = np.array([5, 20]), np.array([[14, 1, 0], [2, 37, 1]])
    got = log_prior(rnn, primers, melodies)
    for row in range(2):
        logits, state = rnn.step(torch.tensor([primers[row]]))
        for t in range(3):
            expected = torch.log_softmax(logits, -1)[0, melodies[row, t]].item()
            assert got[row, t] == pytest.approx(expected, abs=1e-5)
            logits, state = rnn.step(torch.tensor([melodies[row, t]]), state)


def test_music_theory_matches_the_per_melody_rules() -> None:
    rng = np.random.default_rng(1)
    melodies = rng.integers(0, 38, size=(5, 32))
    got = music_theory(melodies)
    for row in range(5):
        np.testing.assert_array_equal(got[row], music_theory_rewards(melodies[row]).sum(1))


def test_compose_is_seeded() -> None:
    rnn = NoteRNN().eval()
    a, b = compose(rnn, 7, 6, seed=3), compose(rnn, 7, 6, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert a[1].shape == (7, 6) and ((a[0] >= 2) & (a[0] < 38)).all()


def test_reproduce_tiny_budget_writes_results_and_resumes(tmp_path: Path) -> None:
    # 300 steps with 64 melodies in parallel take 5 rounds: 320 env steps, which the results must say.
    args = Args(out=str(tmp_path), steps=300, melodies=40, eval_points=1, eval_melodies=4, samples=1, workers=1)
    result = reproduce(args, "test")
    data = json.loads((tmp_path / "table1.json").read_text())
    assert set(data["models"]) == set(MODELS)
    for stats in data["models"].values():
        assert {*TABLE1_KEYS, "mean_log_prior", "mean_music_theory_reward"} <= set(stats)
        assert stats["mean_log_prior"] < 0
    for name in ("table1.md", "fig2.png", "fig2.csv", "fig4.png", "index.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert data["training_steps"] == dict.fromkeys(MODELS[1:], 320) and data["reused_models"] == []
    assert "Settings: 320 env steps per tuner" in (tmp_path / "table1.md").read_text()
    page = (tmp_path / "index.html").read_text()
    assert "320 env steps per tuner" in page and "reused" not in page
    primer = token_name(int(np.load(tmp_path / "melodies_q.npz")["primers"][0]))
    assert f"#0<br>primer<br>{primer}</th>" in page  # the samples carry their primer to the page
    for model in MODELS:
        assert (tmp_path / "samples" / model / f"{model}_0.wav").exists()
        assert f'src="samples/{model}/{model}_0.wav"' in page
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "models").glob("*.zip")}
    again = reproduce(args, "test")
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "models").glob("*.zip")} == stamps
    assert again["training_seconds"] == result["training_seconds"]
    assert again["reused_models"] == list(MODELS[1:])
    table = (tmp_path / "table1.md").read_text()
    assert "reused, not retrained: Q, Ψ, G, RL only" in table and "Settings: 320 env steps per tuner" in table
    assert "320 env steps per tuner (tuners reused from an earlier run)" in (tmp_path / "index.html").read_text()


def test_reproduce_refuses_to_reuse_tuners_trained_otherwise(tmp_path: Path, capsys) -> None:
    args = Args(out=str(tmp_path), steps=64, melodies=8, eval_points=1, eval_melodies=2, samples=0, workers=1,
                algorithms="q")  # fmt: skip
    reproduce(args, "test")
    table = (tmp_path / "table1.md").read_text()
    with pytest.raises(SettingsError, match=r"env steps: trained with 64, asked 128 \(--steps 128\)"):
        reproduce(Args(**{**args.__dict__, "steps": 128}), "test")
    assert (tmp_path / "table1.md").read_text() == table  # nothing rewritten
    assert main(["--out", str(tmp_path), "--algorithms", "q", "--steps", "64", "--c", "1.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rl-tuner reproduce: error: ") and "c: trained with 0.5, asked 1.0 (--c)" in err
    assert len(err.splitlines()) == 1


def test_scoring_in_worker_processes_gives_the_numbers_of_one_process(tmp_path: Path) -> None:
    args = Args(out=str(tmp_path), steps=64, melodies=8, eval_points=1, eval_melodies=2, samples=0, workers=1,
                algorithms="q")  # fmt: skip
    reproduce(args, "test")
    names = ["note_rnn", "q"]
    alone = train_and_score(("q",), args, 64, 50, tmp_path)[1]  # q reused, not retrained
    pooled = train_and_score(("q",), Args(**{**args.__dict__, "workers": 2}), 64, 50, tmp_path)[1]  # spawn workers
    assert list(pooled) == names
    for name in names:
        (a, a_stats, a_ci, a_out), (b, b_stats, b_ci, b_out) = alone[name], pooled[name]
        for field in ("primers", "melodies", "log_prior", "music_theory"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a_stats == b_stats and a_ci == b_ci and a_out is None and b_out is None


def test_training_and_scoring_in_one_pool_give_the_numbers_of_one_process(tmp_path: Path) -> None:
    """workers=2 queues the Note RNN's scoring and both trainings, then each tuner's scoring once it is trained."""
    settings = dict(steps=128, melodies=16, eval_points=1, eval_melodies=2, samples=0, algorithms="q,g")
    alone = reproduce(Args(out=str(tmp_path / "alone"), workers=1, **settings), "test")
    pooled = reproduce(Args(out=str(tmp_path / "pooled"), workers=2, **settings), "test")
    assert list(pooled["models"]) == ["note_rnn", "q", "g"] and pooled["reused_models"] == []
    assert pooled["models"] == alone["models"] and pooled["intervals"] == alone["intervals"]
    for name in ("note_rnn", "q", "g"):
        a, b = (np.load(tmp_path / run / f"melodies_{name}.npz") for run in ("alone", "pooled"))
        np.testing.assert_array_equal(a["melodies"], b["melodies"])


def _tunes() -> np.ndarray:
    """Six stepwise C-major tunes of 32 steps, one note every 4 steps."""
    rng = np.random.default_rng(0)
    return np.array([[t for c in rng.choice([14, 16, 18, 19, 21], 8) for t in (c, 1, 1, 1)] for _ in range(6)])


def test_reproduce_outside_writes_the_report_table_and_page_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(sweep_outside, "SOURCE", ReferenceSource(_tunes, pairs=200, key_sample=4))
    args = Args(out=str(tmp_path), steps=64, melodies=12, eval_points=1, eval_melodies=2, samples=1, workers=1,
                algorithms="q,psi")  # fmt: skip
    reproduce(args, "test")
    assert not (tmp_path / "outside.json").exists() and "outside" not in (tmp_path / "index.html").read_text()
    assert "outside_seconds" not in json.loads((tmp_path / "table1.json").read_text())

    result = reproduce(Args(**{**args.__dict__, "outside": 10}), "test --outside 10")  # tuners reused
    assert result["reused_models"] == ["q", "psi"]
    report = json.loads((tmp_path / "outside.json").read_text())
    assert list(report["models"]) == ["note_rnn", "q", "psi"] and report["command"] == "test --outside 10"
    assert report["validation"]["melodies"] == 6
    assert report["settings"] | {"melodies": 10, "pairs": 200, "key_melodies": 4, "seed": 0} == report["settings"]
    for measures in report["models"].values():
        assert measures["melodies"] == 10 and set(measures["features"]) == set(FEATURE_NAMES)
    assert set(result["outside_seconds"]) == {"validation", "note_rnn", "q", "psi"}
    assert result["wall_time_seconds"] >= sum(result["outside_seconds"].values())
    assert "**Closest to real tunes" in (tmp_path / "outside.md").read_text()
    table = (tmp_path / "table1.md").read_text()
    assert "## Judged from outside" in table and "The first 10 melodies of each model against 6 held-out" in table
    assert "| validation halves (reference) |" in table and "| Note RNN |" in table and "| Ψ |" in table
    page = (tmp_path / "index.html").read_text()
    section = page[page.index("<h2 id='outside'>") : page.index("<h2 id='figures'>")]
    assert page.index("<h2 id='table1'>") < page.index("<h2 id='outside'>")
    assert "<strong>Closest to real tunes" in section and '<a href="outside.md">' in section
    for title in ("validation halves (reference)", "Note RNN", "Q", "Ψ"):
        assert f"<tr><td>{title}</td>" in section

    assert reproduce(Args(**{**args.__dict__, "outside": 50}), "test")["settings"]["outside"] == 50
    assert json.loads((tmp_path / "outside.json").read_text())["models"]["q"]["melodies"] == 12  # all there are

    assert main(["--out", str(tmp_path / "refused"), "--outside", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-tuner reproduce: error: --outside must be a non-negative integer")
    assert err.endswith("(0: no outside measures), got -1\n") and err.count("\n") == 1
    assert not (tmp_path / "refused").exists()  # refused before anything ran
