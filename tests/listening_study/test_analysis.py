"""Every statistic of the report against numbers worked out by hand (or by scipy) on small made-up ratings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from listening_study import analysis
from reward_rules.stats import wilson_interval

MODELS = ("x", "y", "z")


def _row(listener: str, a: str, b: str, likert: int, check: str | None = None) -> dict:
    return {"listener": listener, "model_a": a, "model_b": b, "likert": likert, "check_kind": check}


ROWS = [
    _row("L1", "x", "y", 2),  # x preferred by 2
    _row("L1", "y", "z", 5),  # z by 1
    _row("L1", "x", "z", 4),  # no preference
    _row("L2", "y", "x", 6),  # x by 2
    _row("L2", "z", "y", 1),  # z by 3
    _row("L2", "x", "z", 3),  # x by 1
    _row("L3", "check", "check", 7, "identical"),  # the same melody twice, "B much more pleasing": failed
    _row("L3", "x", "y", 7),
]


@pytest.fixture
def c() -> analysis.Comparisons:
    failed = analysis.failed_checks(ROWS, 7)
    assert failed == {"L3": 1}
    return analysis.comparisons(ROWS, MODELS, 7, frozenset(failed))


def test_attention_checks() -> None:
    assert [analysis.check_passed("identical", "check", v, 7) for v in range(1, 8)] == [0, 0, 1, 1, 1, 0, 0]
    assert analysis.check_passed("anchor", "anchor", 5, 7) and not analysis.check_passed("anchor", "anchor", 4, 7)
    assert analysis.check_passed("anchor", "q", 3, 7) and not analysis.check_passed("anchor", "q", 6, 7)
    assert analysis.check_passed("identical", "check", 2, 5) and not analysis.check_passed("identical", "check", 1, 5)


def test_comparisons_leave_out_checks_and_excluded_listeners(c) -> None:
    assert len(c) == 6 and c.listeners == ("L1", "L2")
    assert c.score.tolist() == [-2, 1, 0, 2, -3, -1]


def test_model_scores_are_signed_towards_each_model(c) -> None:
    x, y, z = analysis.model_scores(c)
    assert x.tolist() == [2, 0, 1, 2] and y.tolist() == [-1, -2, -2, -3] and z.tolist() == [3, 1, 0, -1]


def test_figure3_wins_and_binomial_error_bars(c) -> None:
    wins, trials, ties = analysis.win_counts(c)
    assert wins.tolist() == [3, 0, 2] and trials.tolist() == [4, 4, 4] and ties.tolist() == [1, 0, 1]
    assert analysis.binomial_sd(wins, trials) == pytest.approx([math.sqrt(4 * 0.75 * 0.25), 0.0, 1.0])
    assert analysis.binomial_sd(np.array([0]), np.array([0])).tolist() == [0.0]


def test_kruskal_wallis_by_hand(c) -> None:
    # Ranks of the 12 scores (ties averaged): rank sums x 36, y 10.5, z 31.5 of n = 4 each, N = 12:
    # H = 12 / (N (N + 1)) · Σ R² / n − 3 (N + 1) = 7.125, divided by the tie correction 1 − 5·6 / (12³ − 12).
    h, df, p = analysis.kruskal_wallis(analysis.model_scores(c))
    expected = 7.125 / (1 - 30 / 1716)
    assert h == pytest.approx(expected) and df == 2
    assert p == pytest.approx(math.exp(-expected / 2))  # χ² with 2 degrees of freedom: p = e^(−H/2)


def test_holm_by_hand() -> None:
    # Sorted 0.01, 0.03, 0.04 times 3, 2, 1: 0.03, 0.06, 0.04, made monotone: 0.03, 0.06, 0.06.
    assert analysis.holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert analysis.holm([0.5, 0.6]).tolist() == [1.0, 1.0]


def test_mann_whitney_posthoc(c) -> None:
    rows = {(r["a"], r["b"]): r for r in analysis.mann_whitney_posthoc(analysis.model_scores(c), MODELS)}
    assert list(rows) == [("x", "y"), ("x", "z"), ("y", "z")]
    xy = rows[("x", "y")]
    assert xy["U"] == 16 and xy["superiority"] == 1.0  # every score of x above every score of y
    # x = [2, 0, 1, 2] against z = [3, 1, 0, -1]: x's scores beat 3 + 1 + 2 + 3 = 9 of z's and tie 2 (ties half).
    assert rows[("x", "z")]["U"] == pytest.approx(9 + 0.5 * 2)
    p = [r["p"] for r in rows.values()]
    assert [r["p_holm"] for r in rows.values()] == pytest.approx(analysis.holm(p).tolist())


def test_decisive_and_pairwise_wins(c) -> None:
    winner, loser, listener = analysis.decisive(c)
    assert winner.tolist() == [0, 2, 0, 2, 0] and loser.tolist() == [1, 1, 1, 1, 2]
    assert listener.tolist() == [0, 0, 1, 1, 1]
    assert analysis.pairwise_wins(c).tolist() == [[0, 2, 1], [0, 0, 0], [0, 2, 0]]


def test_win_rates_wilson_and_binomial_test(c) -> None:
    rows = analysis.win_rates(analysis.pairwise_wins(c), MODELS)
    xy, xz, yz = rows
    assert (xy["wins_a"], xy["wins_b"], xy["rate"], xy["p"]) == (2, 0, 1.0, 0.5)  # P(2 of 2 or 0 of 2) = 1/2
    assert (yz["wins_a"], yz["wins_b"], yz["rate"], yz["p"]) == (0, 2, 0.0, 0.5)
    assert xz["p"] == 1.0
    assert (xy["low"], xy["high"]) == pytest.approx(wilson_interval(2, 2))
    empty = analysis.win_rates(np.zeros((2, 2), dtype=int), ("a", "b"))[0]
    assert math.isnan(empty["rate"]) and empty["wins_a"] == 0


def test_bradley_terry_two_models_by_hand() -> None:
    # 3 wins to 1: the maximum-likelihood log-odds is log 3, split ±log(3)/2 around a mean of 0.
    theta = analysis.bradley_terry(np.array([0, 0, 0, 1]), np.array([1, 1, 1, 0]), 2, alpha=0.0)
    assert theta == pytest.approx([math.log(3) / 2, -math.log(3) / 2], abs=1e-6)


def test_bradley_terry_matches_the_likelihood_maximum() -> None:
    pairs = [(0, 1)] * 5 + [(1, 0)] * 2 + [(1, 2)] * 4 + [(2, 1)] * 3 + [(0, 2)] * 3 + [(2, 0)] * 1
    winner, loser = np.array([w for w, _ in pairs]), np.array([loser for _, loser in pairs])

    def nll(free):
        theta = np.append(free, -free.sum())
        return np.sum(np.log1p(np.exp(theta[loser] - theta[winner])))

    best = optimize.minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    expected = np.append(best, -best.sum())
    assert analysis.bradley_terry(winner, loser, 3, alpha=0.0) == pytest.approx(expected, abs=1e-5)


def test_bootstrap_over_listeners(c) -> None:
    theta, low, high = analysis.bootstrap_bradley_terry(c, reps=200, seed=1)
    assert np.all(low <= theta + 1e-9) and np.all(theta <= high + 1e-9)
    assert analysis.bootstrap_bradley_terry(c, reps=200, seed=1)[1].tolist() == low.tolist()  # seeded
    # Two listeners rating alike: every resample is the same data, so the interval has no width.
    rows = [_row(who, "x", "y", 2) for who in ("L1", "L2")] + [_row(who, "y", "x", 3) for who in ("L1", "L2")]
    alike = analysis.comparisons(rows + [_row(w, "y", "x", 5) for w in ("L1", "L2")], ("x", "y"), 7)
    theta, low, high = analysis.bootstrap_bradley_terry(alike, reps=50)
    assert low == pytest.approx(theta) and high == pytest.approx(theta) and theta[0] > theta[1]


def test_agreement_matrix_signs_towards_the_second_model(c) -> None:
    assert analysis.agreement_matrix(c).tolist() == [[-2, 0, 1], [-2, -1, 3]]


def test_listener_agreement_by_hand(c) -> None:
    # Units (-2, -2), (0, -1), (1, 3): D_o = (0 + 2·1 + 2·4) / 6; D_e = 2·Σ_pairs (a − b)² / (6·5) = 226 / 30.
    assert analysis.listener_agreement(c) == pytest.approx(1 - (10 / 6) / (226 / 30))


def test_interval_alpha_of_krippendorffs_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, interval α = 0.849.
    n = math.nan
    data = np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ])  # fmt: skip
    assert analysis.interval_alpha(data) == pytest.approx(0.849, abs=5e-4)
    assert math.isnan(analysis.interval_alpha(np.array([[1.0, n], [2.0, n]])))  # one pairable unit


def test_ratings_needed_by_hand() -> None:
    # p = 0.6: ((1.959964 · 0.5 + 0.841621 · sqrt(0.24)) / 0.1)² = 193.85 → 194.
    assert analysis.ratings_needed(0.6) == 194
    assert analysis.ratings_needed(0.4) == 194  # symmetric
    assert analysis.ratings_needed(0.0) == math.ceil((1.959964 * 0.5 / 0.5) ** 2)  # 3.84 → 4
    assert analysis.ratings_needed(0.5) == math.inf
    assert analysis.ratings_needed(0.75, alpha=0.01, power=0.9) == math.ceil(
        ((2.575829 * 0.5 + 1.281552 * math.sqrt(0.75 * 0.25)) / 0.25) ** 2
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        analysis.ratings_needed(1.5)
