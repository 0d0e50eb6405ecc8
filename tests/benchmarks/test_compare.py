"""The side-by-side report of sweeps (benchmarks.sweep.compare) on a hand-made sweep folder."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.sweep.aggregate import STATISTICS, statistic_summary
from benchmarks.sweep.compare import compare_sweep, kl_control_objective, last_logged, main, pairwise, sweep_label


def _cell(values: dict[str, list[float]], seeds: list[int]) -> dict:
    stats = {name: statistic_summary(values.get(name, [0.5] * len(seeds))) for name in STATISTICS}
    return {"n_seeds": len(seeds), "seeds": seeds, "stats": stats}


@pytest.fixture
def sweep(tmp_path):
    folder = tmp_path / "sweep"
    cells = {
        "note_rnn": _cell({"mean_log_prior": [-1.0, -1.0]}, [0, 1]),
        "q/c=0.5": _cell({"mean_log_prior": [-2.0, -1.5], "mean_music_theory_reward": [2.0, 3.0]}, [0, 1]),
        "kl_ppo/c=0.5": _cell({"mean_log_prior": [-1.8, -1.2], "mean_music_theory_reward": [1.0, 3.0]}, [0, 1]),
    }
    summary = {
        "command": "rl-tuner sweep ...",
        "settings": {"c": [0.5], "hyperparameters": {"c": "auto", "target_kl": 0.5}},
        "cells": cells,
        "train_seconds": {"note_rnn": [0.0, 0.0], "q/c=0.5": [100.0, 120.0], "kl_ppo/c=0.5": [50.0, 70.0]},
    }
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(summary))
    for seed, c in ((0, 0.25), (1, 0.75)):  # the c each kl_ppo seed's log ends with
        log = folder / "trials" / "kl_ppo" / "c=0.5" / f"seed_{seed}" / "progress.csv"
        log.parent.mkdir(parents=True)
        log.write_text(f"train/c,train/kl\n0.5,0.1\n,0.2\n{c},0.3\n")
    return folder


def test_pairwise_counts_seed_pairs_by_hand(sweep):
    pairs = compare_sweep(sweep)["pairs"]
    # log p, higher better: KL-PPO (-1.8, -1.2) against Q (-2.0, -1.5): pairs won 1 (-1.8 > -2.0),
    # lost (-1.8 < -1.5), won, won → 3/4.
    assert pairs["mean_log_prior"]["kl_ppo/c=0.5"]["q/c=0.5"] == 0.75
    assert pairs["mean_log_prior"]["q/c=0.5"]["kl_ppo/c=0.5"] == 0.25
    # rMT: KL-PPO (1, 3) against Q (2, 3): lose, lose, win, tie → (1 + ½) / 4.
    assert pairs["mean_music_theory_reward"]["kl_ppo/c=0.5"]["q/c=0.5"] == 0.375
    assert "note_rnn" not in pairs["mean_log_prior"]


def test_rows_hold_training_time_and_the_last_logged_c(sweep):
    rows = compare_sweep(sweep)["cells"]["kl_ppo/c=0.5"]["rows"]
    assert rows["train_seconds"]["mean"] == 60.0
    assert rows["final_c"]["per_seed"] == [0.25, 0.75] and rows["final_c"]["mean"] == 0.5
    q_rows = compare_sweep(sweep)["cells"]["q/c=0.5"]["rows"]
    assert q_rows["final_c"]["n"] == 0  # no training log: no value, not a made-up one
    assert last_logged(sweep / "missing.csv", "train/c") is None


def test_labels_name_fixed_and_adaptive_c():
    assert sweep_label({"c": [0.5, 2.0], "hyperparameters": {}}) == "c = 0.5, 2"
    assert sweep_label({"c": [0.5], "hyperparameters": {"c": "auto", "target_kl": 0.5}}).startswith(
        "c auto, target KL 0.5"
    )
    label = sweep_label({"c": [0.5], "hyperparameters": {"c": ["auto"], "target_kl": [0.5]}})  # as summary.json
    assert label == "c auto, target KL 0.5 nats/note"


def test_main_writes_the_report_and_refuses_a_folder_without_summary(sweep, tmp_path):
    out = tmp_path / "out"
    assert main(["--sweeps", str(sweep), "--out", str(out)]) == 0
    text = (out / "comparison.md").read_text()
    assert "| KL-PPO | 2 |" in text and "c auto, target KL 0.5" in text
    assert (out / "logp_vs_rmt.png").stat().st_size > 0
    report = json.loads((out / "comparison.json").read_text())
    assert math.isclose(report["sweeps"][0]["cells"]["q/c=0.5"]["rows"]["mean_log_prior"]["mean"], -1.75)
    with pytest.raises(ValueError, match=r"no summary\.json"):
        main(["--sweeps", str(tmp_path / "nowhere"), "--out", str(out)])


def test_pairwise_skips_the_note_rnn():
    cells = {"note_rnn": {"stats": {}}, "a": _cell({}, [0]), "b": _cell({}, [0])}
    assert pairwise(cells)["mean_log_prior"] == {"a": {"b": 0.5}, "b": {"a": 0.5}}


def test_kl_control_objective_per_seed_by_hand():
    stats = {"mean_music_theory_reward": {"per_seed": [2.0, 1.0, None]}, "kl_to_prior": {"per_seed": [0.5, 1.0, 1.0]}}
    got = kl_control_objective(stats, [0.5, 2.0, 0.5])
    assert got[:2] == [2.0 / 0.5 - 0.5, 1.0 / 2.0 - 1.0] and math.isnan(got[2])


def test_outside_columns_come_from_the_sweeps_outside_summary(sweep):
    summary = json.loads((sweep / "summary.json").read_text())
    cell = {"rule_free_overlap_area": statistic_summary([0.8, 0.9]), "key_share": statistic_summary([0.5, 0.5])}
    summary["outside"] = {"cells": {"q/c=0.5": cell}}
    (sweep / "summary.json").write_text(json.dumps(summary))
    rows = compare_sweep(sweep)["cells"]
    assert math.isclose(rows["q/c=0.5"]["rows"]["outside_overlap_area"]["mean"], 0.85)
    assert rows["q/c=0.5"]["rows"]["outside_key_share"]["ci"] == [0.5, 0.5]
    assert "outside_overlap_area" not in rows["kl_ppo/c=0.5"]["rows"]  # no outside measures there: "—"


def test_tests_of_differences_and_t_intervals(sweep):
    report = compare_sweep(sweep)
    rows = report["tests"]
    pair = ("q/c=0.5", "kl_ppo/c=0.5")
    assert [(r["statistic"], r["a"], r["b"]) for r in rows] == [("mean_log_prior", *pair),
                                                               ("mean_music_theory_reward", *pair)]  # fmt: skip
    # 2 seeds against 2: the exact Mann–Whitney p can be no smaller than 2 / C(4, 2) = 1/3.
    assert rows[0]["p_mann_whitney"] == pytest.approx(2 / 3) and rows[0]["poi"] == 0.25
    assert not any(r["separated"] for r in rows)
    low, high = report["cells"]["q/c=0.5"]["rows"]["mean_log_prior"]["t_ci"]  # mean −1.75, s = 0.354, t(1) = 12.71
    assert (low, high) == pytest.approx((-1.75 - 12.7062 * 0.25, -1.75 + 12.7062 * 0.25), abs=1e-3)


def test_sweeps_of_two_commits_are_refused_unless_allowed(sweep, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    summary = json.loads((sweep / "summary.json").read_text())
    (other / "summary.json").write_text(json.dumps({**summary, "commits": {"f" * 40: 6}}))
    folders = f"{sweep},{other}"
    with pytest.raises(ValueError, match="different code"):
        main(["--sweeps", folders, "--out", str(tmp_path / "cmp")])
    assert main(["--sweeps", folders, "--out", str(tmp_path / "cmp"), "--allow-mixed-commits"]) == 0
    assert "**These results mix code of 2 commits**" in (tmp_path / "cmp" / "comparison.md").read_text()
    provenance = json.loads((tmp_path / "cmp" / "provenance.json").read_text())
    assert provenance["command"].endswith("--allow-mixed-commits") and provenance["packages"]["numpy"]
