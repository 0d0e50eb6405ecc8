"""Statistics across seeds on hand-checkable numbers: IQM, bootstrap intervals, probability of improvement."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.sweep.aggregate import (
    BETTER,
    HIGHER,
    LOWER,
    STATISTICS,
    TOWARD_ZERO,
    iqm,
    mean,
    probability_of_improvement,
    statistic_summary,
    stratified_bootstrap_ci,
    summarise_cell,
)
from reward_rules import TABLE1_KEYS


def test_iqm_cuts_a_quarter_off_each_end() -> None:
    assert iqm(np.array([100.0, 1.0, 3.0, 2.0, 4.0])) == pytest.approx(3.0)  # mean of 2, 3, 4
    assert iqm(np.array([1.0, 2.0, 3.0, 10.0])) == pytest.approx(2.5)  # mean of 2, 3
    assert iqm(np.array([1.0, 2.0, 9.0])) == pytest.approx(4.0)  # fewer than 4: the mean
    assert iqm(np.arange(8.0)) == pytest.approx(3.5)  # 2..5
    np.testing.assert_allclose(iqm(np.array([[0.0, 1, 2, 30], [4, 5, 6, 7]])), [1.5, 5.5])


def test_bootstrap_of_constant_values_has_zero_width() -> None:
    for aggregate in (mean, iqm):
        assert stratified_bootstrap_ci(np.full(5, 0.25), aggregate) == (0.25, 0.25)


def test_bootstrap_of_two_values_spans_them() -> None:
    # Resampled means of (0, 1) are 0, 0.5 or 1 with chances 1/4, 1/2, 1/4: the 95 % interval is [0, 1].
    assert stratified_bootstrap_ci(np.array([0.0, 1.0]), mean, reps=4_000) == (0.0, 1.0)
    low, high = stratified_bootstrap_ci(np.array([0.0, 1.0]), mean, confidence=0.4, reps=4_000)
    assert low == high == 0.5


def test_bootstrap_resamples_each_task_on_its_own() -> None:
    # Task 0 is constant at 0 and task 1 at 1: every stratified resample holds two 0s and two 1s.
    scores = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert stratified_bootstrap_ci(scores, mean) == (0.5, 0.5)


def test_probability_of_improvement_counts_pairs_and_half_ties() -> None:
    # pairs (x, y): 3>1, 3>2, 2>1, 2=2 → (3 + 0.5) / 4
    assert probability_of_improvement([3.0, 2.0], [1.0, 2.0]) == pytest.approx(0.875)
    assert probability_of_improvement([3.0, 2.0], [1.0, 2.0], LOWER) == pytest.approx(0.125)
    # |−0.1| and |0.2| against |0.3|: both nearer zero → 1; against 0.15: one pair of two → 0.5
    assert probability_of_improvement([-0.1, 0.2], [0.3], TOWARD_ZERO) == 1.0
    assert probability_of_improvement([-0.1, 0.2], [0.15], TOWARD_ZERO) == 0.5
    assert probability_of_improvement([1.0], [1.0], HIGHER) == 0.5


def test_summary_skips_nan_seeds() -> None:
    entry = statistic_summary([1.0, float("nan"), 3.0])
    assert entry["n"] == 2 and entry["mean"] == 2.0 and entry["iqm"] is None  # no IQM below 5 seeds
    assert entry["per_seed"] == [1.0, None, 3.0]
    assert entry["ci"] == [1.0, 3.0]
    empty = statistic_summary([float("nan")])
    assert empty["n"] == 0 and empty["mean"] is None and empty["ci"] is None


def test_every_statistic_has_a_direction_and_table1_comes_first() -> None:
    assert STATISTICS[: len(TABLE1_KEYS)] == TABLE1_KEYS
    assert set(BETTER.values()) == {HIGHER, LOWER, TOWARD_ZERO}
    assert BETTER["notes_excessively_repeated"] == LOWER and BETTER["notes_in_motif"] == HIGHER


def test_summarise_cell_compares_with_the_baseline() -> None:
    results = [{"identity": {"seed": s}, "stats": {name: float(s) for name in STATISTICS}} for s in (0, 1)]
    baseline = {name: [0.5, 0.5] for name in STATISTICS}
    cell = summarise_cell(results, baseline)
    assert cell["n_seeds"] == 2 and cell["seeds"] == [0, 1]
    assert cell["stats"]["notes_in_motif"]["p_improvement"] == 0.5  # 1 > 0.5, 0 < 0.5
    assert cell["stats"]["notes_in_motif"]["per_seed"] == [0.0, 1.0]
    assert "p_improvement" not in summarise_cell(results, None)["stats"]["notes_in_motif"]
