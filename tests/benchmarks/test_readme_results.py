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
