"""The statistics of a listening study: the paper's Figure 3 and tests, and what the report adds.

Each function is one statistic of docs/spec.md §11. A rating on a ``points``-point scale
(1 = A much more pleasing … ``points`` = B much more pleasing) becomes the score ``likert − centre``:
positive favours B, 0 is no preference. From a model's side the score is signed towards that model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import choix
import krippendorff
import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparisons:
    """The model-pair ratings of the included listeners, one entry per rating.

    :param models: model names; ``a`` and ``b`` index them.
    :param listeners: listener tokens; ``listener`` indexes them.
    :param score: ``likert − centre`` (positive: B preferred).
    """

    models: tuple[str, ...]
    listeners: tuple[str, ...]
    listener: np.ndarray
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    def subset(self, rows: np.ndarray) -> Comparisons:
        """The ratings at ``rows`` (repeats allowed, as a bootstrap draws them)."""
        return Comparisons(self.models, self.listeners, self.listener[rows], self.a[rows], self.b[rows],
                           self.score[rows])  # fmt: skip


def centre(points: int) -> float:
    """The scale's middle, "no preference": ``(points + 1) / 2``."""
    return (points + 1) / 2


def check_passed(kind: str, model_a: str, likert: int, points: int) -> bool:
    """Whether an attention check was answered right.

    ``identical``: the same melody twice, passed within one step of the middle; ``anchor``: random notes
    against a model's melody, passed when the melody's side is preferred (strictly).
    """
    if kind == "identical":
        return abs(likert - centre(points)) <= 1
    if kind == "anchor":
        return likert > centre(points) if model_a == "anchor" else likert < centre(points)
    raise ValueError(f"unknown attention check {kind!r}")


def failed_checks(rows: Sequence[Mapping[str, object]], points: int) -> dict[str, int]:
    """Listener token -> attention checks failed, for the listeners who failed at least one."""
    failed: dict[str, int] = {}
    for row in rows:
        if row["check_kind"] and not check_passed(str(row["check_kind"]), str(row["model_a"]), int(row["likert"]),
                                                  points):  # fmt: skip
            failed[str(row["listener"])] = failed.get(str(row["listener"]), 0) + 1
    return failed


def comparisons(
    rows: Sequence[Mapping[str, object]], models: Sequence[str], points: int, excluded: frozenset[str] = frozenset()
) -> Comparisons:
    """The model-pair ratings (attention checks left out) of the listeners not in ``excluded``."""
    kept = [r for r in rows if not r["check_kind"] and r["listener"] not in excluded]
    listeners = tuple(dict.fromkeys(str(r["listener"]) for r in kept))
    index = {m: i for i, m in enumerate(models)}
    who = {t: i for i, t in enumerate(listeners)}
    return Comparisons(
        tuple(models),
        listeners,
        np.array([who[str(r["listener"])] for r in kept], dtype=np.int64),
        np.array([index[str(r["model_a"])] for r in kept], dtype=np.int64),
        np.array([index[str(r["model_b"])] for r in kept], dtype=np.int64),
        np.array([int(r["likert"]) - centre(points) for r in kept], dtype=np.float64),
    )


def model_scores(c: Comparisons) -> list[np.ndarray]:
    """Per model, the score of every rating it was in, signed towards it (the groups of the paper's tests)."""
    return [np.concatenate([-c.score[c.a == m], c.score[c.b == m]]) for m in range(len(c.models))]


def win_counts(c: Comparisons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Figure 3's counts per model: comparisons its melody was preferred in, comparisons it was in, ties."""
    groups = model_scores(c)
    wins = np.array([(g > 0).sum() for g in groups])
    return wins, np.array([len(g) for g in groups]), np.array([(g == 0).sum() for g in groups])


def binomial_sd(wins: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Figure 3's error bars: the standard deviation ``sqrt(n p (1 − p))`` of a binomial fit, ``p = wins / n``."""
    wins, trials = np.asarray(wins, dtype=float), np.asarray(trials, dtype=float)
    p = np.divide(wins, trials, out=np.zeros_like(wins), where=trials > 0)
    return np.sqrt(trials * p * (1 - p))


def kruskal_wallis(groups: Sequence[np.ndarray]) -> tuple[float, int, float]:
    """The Kruskal–Wallis H test across the models' score groups: ``(H, degrees of freedom, p)``."""
    result = stats.kruskal(*groups)
    return float(result.statistic), len(groups) - 1, float(result.pvalue)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down correction: the k-th smallest p times ``(m − k + 1)``, made monotone, capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    scaled = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted


def mann_whitney_posthoc(groups: Sequence[np.ndarray], models: Sequence[str]) -> list[dict[str, object]]:
    """Two-sided Mann–Whitney U for every pair of models' score groups, Holm-corrected.

    ``superiority`` is ``U / (n₁ n₂)``: the chance that a score of the first model beats one of the second
    (ties half).
    """
    out = []
    for i, j in itertools.combinations(range(len(models)), 2):
        result = stats.mannwhitneyu(groups[i], groups[j], alternative="two-sided")
        superiority = float(result.statistic) / (len(groups[i]) * len(groups[j]))
        out.append({"a": models[i], "b": models[j], "U": float(result.statistic), "p": float(result.pvalue),
                    "superiority": superiority})  # fmt: skip
    for row, adjusted in zip(out, holm([r["p"] for r in out]), strict=True):
        row["p_holm"] = float(adjusted)
    return out


def decisive(c: Comparisons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratings with a preference: ``(winner, loser, listener)`` model and listener indices (ties left out)."""
    keep = c.score != 0
    winner = np.where(c.score > 0, c.b, c.a)[keep]
    loser = np.where(c.score > 0, c.a, c.b)[keep]
    return winner, loser, c.listener[keep]


def bradley_terry(winner: np.ndarray, loser: np.ndarray, items: int, alpha: float = 0.01) -> np.ndarray:
    """Bradley–Terry log-strengths (mean 0) by choix's I-LSR, ``P(i beats j) = 1 / (1 + exp(θⱼ − θᵢ))``.

    :param alpha: choix's regularisation, which keeps a model that never lost finite.
    """
    data = list(zip(winner.tolist(), loser.tolist(), strict=True))
    return np.asarray(choix.ilsr_pairwise(items, data, alpha=alpha), dtype=float)


def bootstrap_bradley_terry(
    c: Comparisons, reps: int = 1000, seed: int = 0, confidence: float = 0.95, alpha: float = 0.01
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bradley–Terry strengths with percentile intervals from resampling whole listeners: ``(θ, low, high)``."""
    winner, loser, listener = decisive(c)
    items = len(c.models)
    theta = bradley_terry(winner, loser, items, alpha)
    rng = np.random.default_rng(seed)
    rows_of = [np.flatnonzero(listener == k) for k in range(len(c.listeners))]
    draws = np.empty((reps, items))
    for r in range(reps):
        rows = np.concatenate([rows_of[k] for k in rng.integers(len(rows_of), size=len(rows_of))])
        draws[r] = bradley_terry(winner[rows], loser[rows], items, alpha)
    tail = 100 * (1 - confidence) / 2
    return theta, np.percentile(draws, tail, axis=0), np.percentile(draws, 100 - tail, axis=0)


def pairwise_wins(c: Comparisons) -> np.ndarray:
    """``W[i, j]``: ratings in which model i's melody was preferred to model j's."""
    winner, loser, _ = decisive(c)
    out = np.zeros((len(c.models), len(c.models)), dtype=np.int64)
    np.add.at(out, (winner, loser), 1)
    return out


def win_rates(wins: np.ndarray, models: Sequence[str], confidence: float = 0.95) -> list[dict[str, object]]:
    """Every model pair's win rate (ties left out), its Wilson interval and the two-sided binomial test of 1/2."""
    out = []
    for i, j in itertools.combinations(range(len(models)), 2):
        k, n = int(wins[i, j]), int(wins[i, j] + wins[j, i])
        if n:
            test = stats.binomtest(k, n)
            low, high = test.proportion_ci(confidence, method="wilson")
            row = {"rate": k / n, "low": float(low), "high": float(high), "p": float(test.pvalue)}
        else:
            row = {"rate": float("nan"), "low": float("nan"), "high": float("nan"), "p": float("nan")}
        out.append({"a": models[i], "b": models[j], "wins_a": k, "wins_b": n - k, **row})
    return out


def agreement_matrix(c: Comparisons) -> np.ndarray:
    """Listeners × model pairs: each listener's mean score for the pair, signed towards its second model (NaN:
    the listener did not rate that pair). The units of :func:`listener_agreement`."""
    pairs = list(itertools.combinations(range(len(c.models)), 2))
    out = np.full((len(c.listeners), len(pairs)), np.nan)
    low, high = np.minimum(c.a, c.b), np.maximum(c.a, c.b)
    signed = np.where(c.b == high, c.score, -c.score)
    for u, (i, j) in enumerate(pairs):
        for k in range(len(c.listeners)):
            mine = (c.listener == k) & (low == i) & (high == j)
            if mine.any():
                out[k, u] = signed[mine].mean()
    return out


def interval_alpha(matrix: np.ndarray) -> float:
    """Krippendorff's α, interval metric, of a coders × units matrix (NaN: missing), by the krippendorff package.

    NaN when fewer than two units have values from two coders.
    """
    pairable = (np.sum(~np.isnan(matrix), axis=0) >= 2).sum()
    if pairable < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval"))


def listener_agreement(c: Comparisons) -> float:
    """Agreement between listeners: Krippendorff's α (interval) over the model pairs (:func:`agreement_matrix`).

    1: every listener scores each model pair alike; 0: no more alike than chance.
    """
    return interval_alpha(agreement_matrix(c))


def ratings_needed(rate: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Rated-with-a-preference comparisons of one model pair needed to tell a win rate ``rate`` from 1/2 in a
    two-sided test at level ``alpha`` with power ``power`` (normal approximation to the binomial):

    ``n = ((z₁₋α/₂ · ½ + z_power · sqrt(p (1 − p))) / (p − ½))²``, rounded up; infinite for ``p = ½``.
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"a win rate is between 0 and 1, got {rate}")
    if rate == 0.5:
        return float("inf")
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return float(np.ceil(((z_a * 0.5 + z_b * np.sqrt(rate * (1 - rate))) / (rate - 0.5)) ** 2))


__all__ = [
    "Comparisons",
    "agreement_matrix",
    "binomial_sd",
    "bootstrap_bradley_terry",
    "bradley_terry",
    "centre",
    "check_passed",
    "comparisons",
    "decisive",
    "failed_checks",
    "holm",
    "interval_alpha",
    "kruskal_wallis",
    "listener_agreement",
    "mann_whitney_posthoc",
    "model_scores",
    "pairwise_wins",
    "ratings_needed",
    "win_counts",
    "win_rates",
]
