"""The README's results against the committed results: every generated block as the JSON says, no figure
quoted from a run nobody committed; and the generator's pieces on made-up data."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.readme.text import number, paper_percent, percent, with_interval
from benchmarks.readme.write import BLOCK, BLOCKS, render, stale_blocks, unheld_numbers

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_blocks_are_what_the_committed_results_say() -> None:
    assert stale_blocks(README, ROOT / "benchmarks" / "results") == [], "run python -m benchmarks.readme"


def test_every_block_is_in_the_readme_once() -> None:
    names = [m["name"] for m in BLOCK.finditer(README)]
    assert sorted(names) == sorted(BLOCKS)


def test_readme_quotes_no_figure_that_no_committed_file_holds() -> None:
    assert unheld_numbers(README, ROOT) == []


def test_numbers_are_rounded_once_with_a_typographic_minus() -> None:
    assert number(-1.8687, 2) == "−1.87" and number(-0.001, 2) == "0.00" and number(2.755, 1) == "2.8"
    assert percent(0.0005) == "0.05 %" and percent(0.7203) == "72.0 %"
    assert paper_percent(0.633) == "63.3 %" and paper_percent(0.00007) == "0.007 %" and paper_percent(0.0) == "0 %"
    # mean 2, s = 1, t(2, 0.975) = 4.3027: 2 ± 2.4841, each bound rounded from the exact value.
    assert with_interval([1.0, 2.0, 3.0]) == "2.00 [−0.48, 4.48]"
    # fractions: the interval clipped to 0–100 %, the mean's decimals for the bounds.
    assert with_interval([0.001, 0.0005, 0.0], "percent") == "0.05 % [0.00, 0.17]"
    assert with_interval([0.5], "percent") == "50.0 %" and with_interval([math.nan, None]) == "—"


def _results(tmp_path: Path, log_p: list[float]) -> Path:
    folder = tmp_path / "benchmarks" / "results"
    (folder / "paper").mkdir(parents=True)
    run = {"command": "rl-tuner reproduce --out x", "machine": "2 cores", "wall_time_seconds": 120.0,
           "training_seconds": {"q": 60.0, "g": 60.0}, "log_p": log_p}  # fmt: skip
    (folder / "paper" / "table1.json").write_text(json.dumps(run))
    return folder


def test_a_block_out_of_date_is_named_and_rewritten(tmp_path: Path) -> None:
    results = _results(tmp_path, [-1.5])
    text = "# R\n\n<!-- results:paper_run -->\nold\n<!-- /results -->\n"
    assert stale_blocks(text, results) == ["paper_run"]
    fresh = render(text, results)
    assert "`rl-tuner reproduce --out x`: 2.0 min on 2 cores, about 1.0 of them training" in fresh
    assert stale_blocks(fresh, results) == []
    assert stale_blocks(fresh.replace("2.0 min", "1.9 min"), results) == ["paper_run"]
    assert stale_blocks("<!-- results:nothing_writes_this -->\n<!-- /results -->", results) == ["nothing_writes_this"]


def test_a_figure_no_committed_file_holds_is_named(tmp_path: Path) -> None:
    _results(tmp_path, [-1.5, 12.25])
    readme = ("## Sweeps across seeds\n\nRLTuner Q at 12,340 env steps/s and −1.5 log p, 12.25 too; `3.14` in code.\n"
              "<!-- results:paper_run -->\n99.9\n<!-- /results -->\n"
              "## Where this differs from the original implementation\n\nPython 3.10.\n")  # fmt: skip
    assert unheld_numbers(readme, tmp_path) == ["12,340"]


def test_the_molecule_block_gives_t_intervals_and_tests_kl_pg_against_g(tmp_path: Path) -> None:
    folder = tmp_path / "molecules"
    folder.mkdir()
    seed = lambda valid, fcd: {"valid": valid, "reward_terms": 1.0, "mean_qed": 0.8, "mean_sa": 2.5,  # noqa: E731
                               "mean_log_prior": -20.0, "kl_to_prior": 1.0, "FCD/Test": fcd}  # fmt: skip
    runs = {"prior": [seed(0.7, 1.5)], "g": [seed(0.6, 2.0), seed(0.7, 2.0), seed(0.8, 2.0)],
            "kl_ppo": [seed(0.8, 5.0), seed(0.9, 6.0), seed(1.0, 7.0)]}  # fmt: skip
    record = {"command": "rl-tuner sweep --task molecule", "wall_seconds": 120.0, "settings": {"prior_samples": 10_000}}
    (folder / "table.json").write_text(json.dumps({"provenance": record, "runs": runs}))
    text = BLOCKS["molecules"](tmp_path)
    # G's validity: mean 0.7, s = 0.1, t(2, 0.975) · s / √3 = 0.2484 → [45.2 %, 94.8 %]; KL-PPO's clipped at 100 %.
    assert "| prior | (10,000 samples) | 70.0 % | 1.000 |" in text
    assert "| G | 3 | 70.0 % [45.2, 94.8] |" in text and "| KL-PPO | 3 | 90.0 % [65.2, 100.0] |" in text
    assert "wall time 2.0 min" in text and "The 4 comparisons are one family" in text
    # every KL-PPO seed's FCD above every G seed's: P(KL-PPO better) = 0, exact p = 2 / C(6, 3) = 0.1.
    assert "| KL-PPO | G | FCD/Test | 0.00 [0.00, 0.00] | 0.1 | 0.4 | not separated by 3 seeds |" in text


def test_the_fixed_c_block_tests_the_collapse_it_claims_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "kl_pg").mkdir()
    distinct = {"q": [0.9, 0.91, 0.92, 0.93, 0.94], "psi": [0.95] * 4 + [0.96], "g": [0.8, 0.85, 0.9, 0.95, 0.99],
                "kl_ppo": [0.001, 0.002, 0.003, 0.004, 0.005], "rloo": [0.001] * 5}  # fmt: skip
    cells = {f"{a}/c=0.5": {"n_seeds": 5, "rows": {"distinct_melodies": {"per_seed": v}}} for a, v in distinct.items()}
    sweep = {"label": "c = 0.5", "command": "rl-tuner sweep", "cells": cells}
    (tmp_path / "kl_pg" / "comparison.json").write_text(json.dumps({"sweeps": [sweep], "command": "compare"}))
    text = BLOCKS["kl_pg_fixed"](tmp_path)
    assert "The 6 comparisons are one family" in text and "log p" not in text.split("Tested")[1]
    # 5 against 5 seeds fully apart: exact p = 2 / C(10, 5) = 0.0079; Holm over 6: 6 · 0.0079 = 0.048.
    assert (
        "| RLOO | G | distinct melodies | 0.00 [0.00, 0.00] | 0.0079 | 0.048 | G better than RLOO (Holm p = 0.048) |"
        in text
    )
    assert "| KL-PPO | 5 | — | — | — | 0.3 % |" in text
