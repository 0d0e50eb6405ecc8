"""Statistics across seeds: mean, interquartile mean, stratified-bootstrap intervals, probability of improvement.

These follow Agarwal et al., *Deep RL at the Edge of the Statistical Precipice* (NeurIPS 2021), as
its ``rliable`` package computes them. They are written here with numpy instead of importing
``rliable``: rliable 1.2.0 imports only with pandas < 3 (its ``arch`` dependency breaks on pandas 3),
while Ray Tune installs pandas 3; the three functions are a few lines each.

- IQM: the mean of the middle 50 % of the values after sorting, cutting ``int(0.25 n)`` from each end
  (``scipy.stats.trim_mean(x, 0.25)``, rliable's definition); with fewer than 4 seeds it is the mean.
- Stratified bootstrap: resample the runs of each task (stratum) with replacement, independently per
  task, and take the aggregate of the resampled matrix; the 95 % interval is the 2.5th and 97.5th
  percentiles of those aggregates. Every (cell, statistic) here is one task, so its stratified
  bootstrap resamples its seeds.
- t-interval: the Student t-interval of the mean over seeds, the interval the tables show (the percentile
  bootstrap of a mean covers far less than its nominal 95 % at a few seeds: about 76 % at 3 and 83 % at 5,
  ``python -m benchmarks.sweep.coverage``).
- Probability of improvement P(X > Y): the chance that a random seed of X beats a random seed of Y on
  a statistic, ties counting one half (the Mann-Whitney U statistic / (n m)), averaged over tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import stats

HIGHER, LOWER, TOWARD_ZERO = "higher", "lower", "toward zero"
BETTER: dict[str, str] = {
    "notes_excessively_repeated": LOWER,
    "autocorrelation_lag1": TOWARD_ZERO,
    "autocorrelation_lag2": TOWARD_ZERO,
    "autocorrelation_lag3": TOWARD_ZERO,
    "notes_not_in_key": LOWER,
    "melodies_starting_with_tonic": HIGHER,
    "leaps_resolved": HIGHER,
    "unique_max_note": HIGHER,
    "unique_min_note": HIGHER,
    "notes_in_motif": HIGHER,
    "notes_in_repeated_motif": HIGHER,
    "mean_log_prior": HIGHER,
    "mean_music_theory_reward": HIGHER,
    "kl_to_prior": LOWER,
    "distinct_melodies": HIGHER,
}
"""Which way each statistic improves. Table 1's: the paper's caption ("the top half of the table contains
metrics that should be near zero, while the bottom half contains metrics that should increase"; the
autocorrelations are signed, so near zero means a smaller magnitude). Mean log p(a|s): higher keeps
more of the data (paper §6, Figure 2a); mean rMT: higher follows the rules more (Figure 2b); KL to the
prior: lower stays closer to the Note RNN; distinct melodies: higher is less collapse onto few melodies."""
MIN_IQM_SEEDS = 5
"""Fewest seeds with an IQM: at 3 nothing is trimmed (it is the mean), at 4 it is the mean of the middle two."""
STATISTICS: tuple[str, ...] = tuple(BETTER)
"""The statistics aggregated per cell, in the table's order (Table 1's first, docs/spec.md §7)."""


def iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean along ``axis``: the mean after cutting ``int(0.25 n)`` sorted values off each end.

    :param values: finite values; ``n`` of them along ``axis``.
    """
    values = np.sort(np.asarray(values, dtype=np.float64), axis=axis)
    n = values.shape[axis]
    cut = int(0.25 * n)
    return np.take(values, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


def mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean along ``axis`` (the other aggregate, with :func:`iqm`'s signature)."""
    return np.asarray(values, dtype=np.float64).mean(axis=axis)


def stratified_bootstrap_ci(
    scores: np.ndarray,
    aggregate: Callable[[np.ndarray], np.ndarray],
    confidence: float = 0.95,
    reps: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``aggregate`` over stratified bootstrap resamples of ``scores``.

    :param scores: (runs,) or (runs, tasks); runs are resampled within each task independently.
    :param aggregate: maps (reps, runs × tasks) resamples, flattened per rep, to (reps,) values
        (:func:`mean` or :func:`iqm`).
    :param confidence: e.g. 0.95 for the 2.5th-97.5th percentiles.
    :param reps: bootstrap resamples.
    :param seed: seed of the resampling.
    """
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[:, None] if scores.ndim == 1 else scores
    runs, tasks = scores.shape
    if runs == 0:
        raise ValueError("stratified_bootstrap_ci needs at least one run")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, runs, size=(reps, runs, tasks))  # run index, per rep and task
    resampled = np.take_along_axis(np.broadcast_to(scores, (reps, runs, tasks)), draws, axis=1)
    values = aggregate(resampled.reshape(reps, runs * tasks))
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [alpha, 100 - alpha])
    return float(low), float(high)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The Student t-interval of the mean: ``x̄ ± t(n − 1) s / √n``; ``None`` below two values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return None
    half = stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return float(values.mean() - half), float(values.mean() + half)


def oriented(values: np.ndarray, better: str) -> np.ndarray:
    """``values`` turned so that larger is better: as is, negated, or minus the magnitude (:data:`BETTER`)."""
    values = np.asarray(values, dtype=np.float64)
    return {HIGHER: values, LOWER: -values, TOWARD_ZERO: -np.abs(values)}[better]


def probability_of_improvement(x: Sequence[float], y: Sequence[float], better: str = HIGHER) -> float:
    """P(X > Y): the share of pairs (seed of X, seed of Y) where X is better, ties counting ½.

    :param x: per-seed values of the candidate. :param y: per-seed values of the baseline.
    :param better: the direction of the statistic (:data:`HIGHER`, :data:`LOWER` or :data:`TOWARD_ZERO`).
    """
    a, b = oriented(x, better)[:, None], oriented(y, better)[None, :]
    if a.size == 0 or b.size == 0:
        raise ValueError("probability_of_improvement needs at least one value on each side")
    return float((a > b).mean() + 0.5 * (a == b).mean())


def statistic_summary(per_seed: Sequence[float], seed: int = 0) -> dict[str, object]:
    """Mean with its 95 % t-interval and 95 % stratified-bootstrap interval, and the IQM with its bootstrap
    interval from :data:`MIN_IQM_SEEDS` seeds on; NaN seeds are skipped.

    :param per_seed: one value per seed (NaN where a seed has none).
    :return: ``{"n": seeds used, "mean", "t_ci" (t-interval of the mean, ``None`` at one seed), "ci"
        (bootstrap interval of the mean), "iqm", "iqm_ci", "per_seed"}``; ``None`` aggregates when no seed
        has a value, and no IQM below :data:`MIN_IQM_SEEDS` seeds.
    """
    values = np.asarray(per_seed, dtype=np.float64)
    finite = values[np.isfinite(values)]
    out: dict[str, object] = {"n": int(finite.size), "per_seed": [None if not np.isfinite(v) else float(v)
                                                                 for v in values]}  # fmt: skip
    if finite.size == 0:
        return {**out, "mean": None, "t_ci": None, "ci": None, "iqm": None, "iqm_ci": None}
    t_ci = t_interval(finite)
    trimmed = finite.size >= MIN_IQM_SEEDS
    return {
        **out,
        "mean": float(finite.mean()),
        "t_ci": None if t_ci is None else list(t_ci),
        "ci": list(stratified_bootstrap_ci(finite, mean, seed=seed)),
        "iqm": float(iqm(finite)) if trimmed else None,
        "iqm_ci": list(stratified_bootstrap_ci(finite, iqm, seed=seed)) if trimmed else None,
    }


def summarise_cell(results: Sequence[Mapping[str, object]], baseline: Mapping[str, Sequence[float]] | None) -> dict:
    """One cell of ``summary.json`` from its seeds' results (``stats.json`` contents).

    :param results: the finished seeds of the cell.
    :param baseline: statistic → the Note RNN's per-seed values, for the probability of improvement
        (``None`` for the Note RNN itself).
    :return: ``{"n_seeds", "seeds", "stats": {statistic: statistic_summary(...) [+ "p_improvement"]}}``.
    """
    seeds = [int(r["identity"]["seed"]) for r in results]
    stats = {}
    for name in STATISTICS:
        per_seed = [float(r["stats"].get(name, np.nan)) for r in results]
        entry = statistic_summary(per_seed)
        if baseline is not None:
            mine = [v for v in per_seed if np.isfinite(v)]
            theirs = [v for v in baseline[name] if v is not None and np.isfinite(v)]
            entry["p_improvement"] = probability_of_improvement(mine, theirs, BETTER[name]) if mine and theirs else None
        stats[name] = entry
    return {"n_seeds": len(results), "seeds": seeds, "stats": stats}


__all__ = [
    "BETTER",
    "HIGHER",
    "LOWER",
    "MIN_IQM_SEEDS",
    "STATISTICS",
    "TOWARD_ZERO",
    "iqm",
    "mean",
    "oriented",
    "probability_of_improvement",
    "statistic_summary",
    "stratified_bootstrap_ci",
    "summarise_cell",
    "t_interval",
]
