"""The sweep's report and figures from hand-made seed results (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.sweep.aggregate import STATISTICS
from benchmarks.sweep.figures import plot_c_tradeoff, plot_figure2_bands, read_curve, seed_band
from benchmarks.sweep.report import build_summary, cell_title, markdown, scan, write_report


def _result(cell: str, seed: int, value: float) -> dict:
    return {"cell": cell, "identity": {"seed": seed}, "stats": {name: value for name in STATISTICS},
            "train_seconds": 1.0, "score_seconds": 0.1}  # fmt: skip


def _results() -> dict[str, list[dict]]:
    return {
        "note_rnn": [_result("note_rnn", s, 0.1) for s in range(3)],
        "q/c=0.5": [_result("q/c=0.5", s, 0.2 + 0.1 * s) for s in range(3)],
        "q/c=2": [_result("q/c=2", s, 0.05) for s in range(2)],
    }


def test_summary_cells_and_table(tmp_path: Path) -> None:
    summary = build_summary(_results(), {"steps": 10, "melodies": 5, "n_envs": 2, "hyperparameters": {},
                                         "exploration": []}, "cmd")  # fmt: skip
    cells = summary["cells"]
    assert list(cells) == ["note_rnn", "q/c=0.5", "q/c=2"]
    motif = cells["q/c=0.5"]["stats"]["notes_in_motif"]
    assert motif["per_seed"] == pytest.approx([0.2, 0.3, 0.4]) and motif["mean"] == pytest.approx(0.3)
    assert motif["p_improvement"] == 1.0  # every seed above the Note RNN's 0.1
    assert cells["q/c=2"]["stats"]["notes_in_motif"]["p_improvement"] == 0.0
    assert cells["q/c=2"]["stats"]["notes_excessively_repeated"]["p_improvement"] == 1.0  # lower is better
    text = markdown(summary)
    assert "## c=0.5: mean [95 % t-interval]" in text and "## c=2: probability of improvement" in text
    assert "IQM" not in text.split("## c=0.5")[1]  # no IQM below 5 seeds: nothing is trimmed at 3
    # The tests of differences: every pair of a c's cells on every statistic, one Holm family per c.
    rows = summary["differences"]["c=0.5"]
    assert len(rows) == len(STATISTICS) and {(r["a"], r["b"]) for r in rows} == {("q/c=0.5", "note_rnn")}
    motif_test = next(r for r in rows if r["statistic"] == "notes_in_motif")
    assert motif_test["poi"] == 1.0 and motif_test["p_mann_whitney"] == pytest.approx(0.1)  # 3 vs 3: its floor
    assert not motif_test["separated"] and "not separated by 3 seeds" in text
    assert f"The {len(STATISTICS)} comparisons of this table are one family" in text
    assert "| Note RNN, 3 seeds | Q, 3 seeds |" in text and "Q, 2 seeds" in text
    assert "| notes in motif (higher) | 10.00 % [10.00 %, 10.00 %] | 30.00 % [" in text
    write_report(tmp_path, summary)
    assert json.loads((tmp_path / "summary.json").read_text())["cells"] == json.loads(json.dumps(cells))
    with pytest.raises(ValueError, match="Note RNN"):
        build_summary({"q/c=0.5": _results()["q/c=0.5"]}, {}, "cmd")


def test_summary_refuses_seeds_of_two_commits() -> None:
    results = _results()
    for i, r in enumerate(results["q/c=0.5"]):
        r["code"] = {"commit": "a" * 40 if i else "b" * 40, "dirty": False}
    with pytest.raises(ValueError, match=r"different code .*--allow-mixed-commits"):
        build_summary(results, {}, "cmd")
    summary = build_summary(results, {"steps": 10, "melodies": 5, "n_envs": 2, "hyperparameters": {},
                                      "exploration": []}, "cmd", allow_mixed=True)  # fmt: skip
    assert summary["commits"] == {"unknown": 5, "b" * 40: 1, "a" * 40: 2}
    assert "**These results mix code of 3 commits**" in markdown(summary)


def test_scan_reads_every_finished_seed(tmp_path: Path) -> None:
    for cell, results in _results().items():
        for r in results:
            folder = tmp_path / "trials" / cell / f"seed_{r['identity']['seed']}"
            folder.mkdir(parents=True)
            (folder / "stats.json").write_text(json.dumps(r))
    found = scan(tmp_path)
    assert {k: len(v) for k, v in found.items()} == {"note_rnn": 3, "q/c=0.5": 3, "q/c=2": 2}


def test_cell_title() -> None:
    assert cell_title("psi/c=0.5/exploration=boltzmann") == "Ψ (exploration=boltzmann)"
    assert cell_title("rl_only/c=1") == "RL only"


def test_curves_and_bands(tmp_path: Path) -> None:
    path = tmp_path / "progress.csv"
    path.write_text("time/total_timesteps,reward/log_prior,reward/music_theory,train/loss\n"
                    "100,-1.0,-5.0,1\n200,-2.0,-3.0,1\n300,,,1\n")  # fmt: skip
    steps, log_p, r_mt = read_curve(path)
    np.testing.assert_array_equal(steps, [100, 200])  # the row without rewards is left out
    np.testing.assert_array_equal(log_p, [-1.0, -2.0])
    other = (np.array([100.0, 150.0, 200.0]), np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    band_steps, band_lp, band_mt = seed_band([(steps, log_p, r_mt), other, (np.array([]),) * 3])
    np.testing.assert_array_equal(band_steps, [100, 200])  # the shortest curve's steps; empty ones dropped
    np.testing.assert_array_equal(band_lp, [[-1.0, -2.0], [0.0, 2.0]])
    assert band_mt.shape == (2, 2)
    summary = build_summary(_results(), {}, "cmd")
    assert plot_figure2_bands({"q/c=0.5": [(steps, log_p, r_mt), other]},
                              {"mean_log_prior": -1.0, "mean_music_theory_reward": -4.0},
                              tmp_path / "fig2.png").stat().st_size > 0  # fmt: skip
    assert plot_c_tradeoff(summary["cells"], tmp_path / "c.png").stat().st_size > 0
