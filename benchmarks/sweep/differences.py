"""Tests of differences between two sets of seeds, corrected for the comparisons of one table.

- :func:`mann_whitney_p`: the exact two-sided Mann–Whitney U test (no normality assumed); with ties,
  the exact permutation distribution of U. Its smallest possible p-value is ``2 / C(n + m, n)``
  (:func:`smallest_mann_whitney_p`): 0.10 at 3 seeds against 3, 0.0079 at 5 against 5, 1.1e-5 at 10
  against 10, so a few seeds cannot separate anything after a correction, however far apart they lie.
- :func:`welch_p`: Welch's unequal-variance t-test (assumes each set is normally distributed).
- :func:`holm`: Holm's step-down adjustment of a family of p-values (controls the chance of any false
  claim in the family at the level, under any dependence).
- :func:`~benchmarks.sweep.aggregate.t_interval` (re-exported): the Student t-interval of a mean over
  seeds (exact coverage for normal seeds).
- :func:`poi_interval`: the probability of improvement (``aggregate.probability_of_improvement``) with a
  percentile interval from bootstrap resamples of each side (rliable's stratified bootstrap).
- :func:`bootstrap_coverage` and :func:`poi_coverage`: how often those bootstrap intervals cover the
  truth for normally distributed seeds (simulation), stated under the tables that show them.

:func:`compare` gives one comparison and :func:`family` adds the Holm-adjusted p-values to a table's.
A difference is a claim (``"separated"``) only where the adjusted Mann–Whitney p-value is below
:data:`LEVEL`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import stats

from benchmarks.sweep.aggregate import (
    HIGHER,
    iqm,
    mean,
    oriented,
    probability_of_improvement,
    stratified_bootstrap_ci,
    t_interval,
)

LEVEL = 0.05
"""Family-wise error rate of the claims of one table."""
_EXACT_LIMIT = 200_000
"""Permutations enumerated exactly when the seeds tie; above it, this many are drawn at random."""


def smallest_mann_whitney_p(n: int, m: int) -> float:
    """The smallest two-sided exact Mann–Whitney p-value of ``n`` against ``m`` values: ``2 / C(n + m, n)``."""
    return min(1.0, 2.0 / math.comb(n + m, n))


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Exact two-sided Mann–Whitney U p-value of ``x`` against ``y`` (scipy ``mannwhitneyu``).

    Without ties, U's exact null distribution (``method="exact"``); with ties, the permutation distribution
    of U, enumerated exactly up to :data:`_EXACT_LIMIT` arrangements.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        raise ValueError("mann_whitney_p needs at least one value on each side")
    if np.unique(np.concatenate([x, y])).size == x.size + y.size:
        return float(stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue)
    if np.unique(np.concatenate([x, y])).size == 1:
        return 1.0
    arrangements = math.comb(x.size + y.size, x.size)
    method = stats.PermutationMethod(n_resamples=min(arrangements, _EXACT_LIMIT), rng=0)
    return float(stats.mannwhitneyu(x, y, alternative="two-sided", method=method).pvalue)


def welch_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided Welch t-test p-value of ``x`` against ``y``; NaN when it is undefined (a side of one
    value, or no spread on either side)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2 or y.size < 2 or (np.ptp(x) == 0 and np.ptp(y) == 0):
        return math.nan
    with warnings.catch_warnings():  # scipy warns of precision loss for nearly equal values; the p stays defined
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's adjusted p-values: the i-th smallest times (k − i + 1), made non-decreasing, capped at 1.

    NaN p-values stay NaN and do not count in ``k``.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    k, running = order.size, 0.0
    for i, index in enumerate(order):
        running = max(running, min(1.0, (k - i) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def poi_interval(
    x: Sequence[float], y: Sequence[float], better: str = HIGHER, confidence: float = 0.95, reps: int = 2_000,
    seed: int = 0,
) -> tuple[float, float]:  # fmt: skip
    """Percentile interval of the probability of improvement P(X > Y) over bootstrap resamples of each side."""
    a, b = oriented(x, better), oriented(y, better)
    rng = np.random.default_rng(seed)
    xs = a[rng.integers(0, a.size, (reps, a.size))][:, :, None]
    ys = b[rng.integers(0, b.size, (reps, b.size))][:, None, :]
    values = (xs > ys).mean(axis=(1, 2)) + 0.5 * (xs == ys).mean(axis=(1, 2))
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [alpha, 100 - alpha])
    return float(low), float(high)


@lru_cache(maxsize=64)
def bootstrap_coverage(n: int, trimmed: bool = False, sims: int = 1_000, reps: int = 1_000, seed: int = 0) -> float:
    """Share of ``sims`` normal samples of ``n`` seeds whose nominal 95 % bootstrap interval of the mean (of the
    IQM if ``trimmed``; :func:`benchmarks.sweep.aggregate.stratified_bootstrap_ci`) covers the true value, 0."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(sims):
        low, high = stratified_bootstrap_ci(rng.standard_normal(n), iqm if trimmed else mean, reps=reps, seed=i)
        hits += low <= 0.0 <= high
    return hits / sims


@lru_cache(maxsize=64)
def poi_coverage(n: int, m: int, sims: int = 1_000, reps: int = 1_000, seed: int = 0) -> float:
    """Share of ``sims`` pairs of normal samples (``n`` and ``m`` seeds, no difference: P(X > Y) = ½) whose
    :func:`poi_interval` covers ½."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(sims):
        low, high = poi_interval(rng.standard_normal(n), rng.standard_normal(m), reps=reps, seed=i)
        hits += low <= 0.5 <= high
    return hits / sims


def compare(x: Sequence[float], y: Sequence[float], better: str = HIGHER) -> dict[str, object]:
    """One comparison of two sets of seeds (NaN seeds dropped).

    :return: ``{"n", "m", "poi", "poi_ci", "p_mann_whitney", "p_welch"}``; ``None`` values when a side is
        empty.
    """
    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], dtype=np.float64)
    b = np.asarray([v for v in y if v is not None and math.isfinite(v)], dtype=np.float64)
    out: dict[str, object] = {"n": int(a.size), "m": int(b.size)}
    if a.size == 0 or b.size == 0:
        return {**out, "poi": None, "poi_ci": None, "p_mann_whitney": None, "p_welch": None}
    return {
        **out,
        "poi": probability_of_improvement(a, b, better),
        "poi_ci": list(poi_interval(a, b, better)),
        "p_mann_whitney": mann_whitney_p(a, b),
        "p_welch": welch_p(a, b),
    }


def family(comparisons: list[dict[str, object]]) -> list[dict[str, object]]:
    """Add Holm-adjusted p-values (``"p_holm"`` of Mann–Whitney, ``"p_welch_holm"``) over ``comparisons``, one
    table's, and ``"separated"``: the adjusted Mann–Whitney p-value is below :data:`LEVEL`."""

    def nan(value: object) -> float:
        return math.nan if value is None else float(value)  # type: ignore[arg-type]

    mw = holm([nan(c["p_mann_whitney"]) for c in comparisons])
    welch = holm([nan(c["p_welch"]) for c in comparisons])
    out = []
    for c, p, q in zip(comparisons, mw, welch, strict=True):
        out.append({**c, "p_holm": None if math.isnan(p) else p, "p_welch_holm": None if math.isnan(q) else q,
                    "separated": bool(not math.isnan(p) and p < LEVEL)})  # fmt: skip
    return out


def verdict(entry: dict[str, object], a: str, b: str) -> str:
    """The words of one comparison: ``"A above B (Holm p = 0.002)"``, or ``"not separated by n seeds"``."""
    if entry["poi"] is None:
        return "—"
    seeds = f"{entry['n']}" if entry["n"] == entry["m"] else f"{entry['n']} and {entry['m']}"
    if not entry["separated"]:
        return f"not separated by {seeds} seeds"
    winner, loser = (a, b) if float(entry["poi"]) > 0.5 else (b, a)  # type: ignore[arg-type]
    return f"{winner} better than {loser} (Holm p = {float(entry['p_holm']):.2g})"  # type: ignore[arg-type]


__all__ = [
    "LEVEL",
    "bootstrap_coverage",
    "compare",
    "family",
    "holm",
    "mann_whitney_p",
    "poi_coverage",
    "poi_interval",
    "smallest_mann_whitney_p",
    "t_interval",
    "verdict",
]
