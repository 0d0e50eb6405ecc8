"""Tests of differences on hand-worked numbers: exact Mann–Whitney, Welch, Holm, t-interval, the verdict."""

from __future__ import annotations

import math

import pytest

from benchmarks.sweep.aggregate import LOWER, statistic_summary, t_interval
from benchmarks.sweep.differences import (
    compare,
    family,
    holm,
    mann_whitney_p,
    poi_interval,
    smallest_mann_whitney_p,
    verdict,
    welch_p,
)


def test_exact_mann_whitney_counts_arrangements() -> None:
    # 3 against 3: C(6, 3) = 20 equally likely arrangements; U = 0 in one of them, U <= 1 in two.
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert mann_whitney_p([1, 2, 4], [3, 5, 6]) == pytest.approx(4 / 20)
    assert smallest_mann_whitney_p(3, 3) == pytest.approx(0.1)
    assert smallest_mann_whitney_p(5, 5) == pytest.approx(2 / 252)
    assert smallest_mann_whitney_p(1, 1) == 1.0


def test_mann_whitney_with_ties_enumerates_the_permutations() -> None:
    # Tied values within one side: U = 0 still happens in 1 of the 20 arrangements (and U = 9 in one).
    assert mann_whitney_p([0, 0, 0], [1, 2, 3]) == pytest.approx(2 / 20)
    assert mann_whitney_p([1, 1], [1, 1]) == 1.0


def test_welch_matches_its_formula() -> None:
    # means 2 and 5, variances 1 and 1, n = 3: t = 3 / sqrt(2/3), Welch's df = 4.
    from scipy import stats

    expected = 2 * stats.t.sf(3 / math.sqrt(2 / 3), 4)
    assert welch_p([1, 2, 3], [4, 5, 6]) == pytest.approx(expected)
    assert math.isnan(welch_p([1, 1], [2, 2])) and math.isnan(welch_p([1], [2, 3]))


def test_holm_steps_down_and_keeps_order() -> None:
    # sorted: 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 → raised to 0.06.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    adjusted = holm([0.02, math.nan, 0.5])
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.5)


def test_t_interval_of_three_seeds() -> None:
    low, high = t_interval([1.0, 2.0, 3.0])  # mean 2, s = 1, t(2, 0.975) = 4.3027
    assert (low, high) == pytest.approx((2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / math.sqrt(3)))
    assert t_interval([1.0]) is None


def test_no_iqm_below_five_seeds() -> None:
    few, five = statistic_summary([1.0, 2.0, 3.0, 4.0]), statistic_summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert few["iqm"] is None and few["iqm_ci"] is None and few["t_ci"] is not None
    assert five["iqm"] == pytest.approx(3.0)  # the middle three of five


def test_poi_interval_and_verdict() -> None:
    assert poi_interval([4, 5, 6], [1, 2, 3]) == (1.0, 1.0)
    assert poi_interval([1, 2, 3], [4, 5, 6], LOWER) == (1.0, 1.0)
    far = compare(list(range(10, 20)), list(range(10)))
    near = compare([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert far["poi"] == 1.0 and far["p_mann_whitney"] == pytest.approx(smallest_mann_whitney_p(10, 10))
    checked = family([far, near])
    assert checked[0]["p_holm"] == pytest.approx(2 * smallest_mann_whitney_p(10, 10))
    assert checked[1]["p_holm"] == pytest.approx(0.1)
    assert [c["separated"] for c in checked] == [True, False]
    assert verdict(checked[0], "Q", "G").startswith("Q better than G (Holm p = 2.2e-05)")
    assert verdict(checked[1], "Q", "G") == "not separated by 3 seeds"
    assert compare([], [1.0])["poi"] is None
