"""Smoke run of benchmarks/speed/bench_rules.py on a tiny budget (no timings are checked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.speed.bench_rules import main, walk_melodies


def test_bench_rules_writes_report(tmp_path: Path) -> None:
    out = tmp_path / "rules.md"
    argv = ["--num-melodies", "50", "--batch-sizes", "1,4", "--evaluator-steps", "64", "--repeats", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    assert "python -m benchmarks.speed.bench_rules --num-melodies 50" in text
    assert "| notes_in_motif |" in text and "| 4 |" in text


def test_walk_melodies_are_valid_and_seeded() -> None:
    a, b = walk_melodies(20, 32, seed=1), walk_melodies(20, 32, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20, 32) and a.min() >= 0 and a.max() <= 37
