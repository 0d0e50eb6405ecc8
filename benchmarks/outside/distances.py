"""Distances between sets of melodies, after Yang & Lerch, "On the evaluation of generative models in music" (2018).

For one feature (one vector per melody, a scalar being a vector of one):

1. the **intra-set** distances of a reference set: the Euclidean distance between the features of
   two different melodies of the set (:func:`intra_set_distances`);
2. the **inter-set** distances: between a melody of the set under test and one of the reference
   (:func:`inter_set_distances`);
3. both distributions smoothed by a Gaussian KDE (``scipy.stats.gaussian_kde``, Scott's rule) on one
   grid (:func:`smoothed_densities`);
4. their overlapping area ``OA = ∫ min(p, q) dx`` (:func:`overlap_area`) and the Kullback–Leibler
   divergence ``KL(p ‖ q) = ∫ p log(p / q) dx`` of the intra-set density ``p`` from the inter-set
   one ``q`` (:func:`kl_divergence`).

A set whose melodies are as far from the reference as the reference's own melodies are from one
another gives OA near 1 and KL near 0.

Unlike the paper, which uses every pair of two 100-melody sets, a large set contributes a seeded
sample of pairs (every pair when there are few enough), and a bandwidth is never narrower than
1/100 of the span of the pooled distances: scipy's KDE cannot smooth a sample of equal values
(a feature every melody shares), and such a sample becomes a narrow Gaussian instead. The KL here
is evaluated on one common grid; the paper's code evaluated the two densities on different grids.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid
from scipy.stats import gaussian_kde, norm

GRID_POINTS = 1024
"""Points of the grid on which the densities are evaluated and integrated."""
MIN_BANDWIDTH_FRACTION = 0.01
"""Narrowest KDE bandwidth, as a share of the span of the pooled distances."""
DENSITY_FLOOR = 1e-12
"""Added to both densities before the KL divergence, so a density that is 0 where the other is not stays finite."""


def defined_rows(features: np.ndarray) -> np.ndarray:
    """The rows of a (n, d) feature array without NaN (melodies where the feature is defined).

    :param features: (n, d) or (n,) floats.
    """
    features = np.asarray(features, dtype=float)
    features = features[:, None] if features.ndim == 1 else features
    return features[~np.isnan(features).any(axis=1)]


def intra_set_pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)``, ``i ≠ j``, of pairs within a set of ``n``: every unordered pair if there
    are at most ``n_pairs`` of them, else ``n_pairs`` drawn uniformly with replacement.

    :param n: set size.
    :param n_pairs: most pairs to return.
    :param rng: the source of the draw.
    """
    if n * (n - 1) // 2 <= n_pairs:
        return np.triu_indices(n, k=1)
    i = rng.integers(n, size=n_pairs)
    j = rng.integers(n - 1, size=n_pairs)
    return i, j + (j >= i)


def inter_set_pairs(n_a: int, n_b: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(i, j)`` of pairs, ``i`` in a set of ``n_a`` and ``j`` in one of ``n_b``: all pairs
    if there are at most ``n_pairs``, else ``n_pairs`` drawn uniformly with replacement.

    :param n_a: size of the first set.
    :param n_b: size of the second set.
    :param n_pairs: most pairs to return.
    :param rng: the source of the draw.
    """
    if n_a * n_b <= n_pairs:
        i, j = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
        return i.ravel(), j.ravel()
    return rng.integers(n_a, size=n_pairs), rng.integers(n_b, size=n_pairs)


def intra_set_distances(features: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Euclidean distances between the features of pairs of different melodies of one set.

    :param features: (n, d) features; rows with NaN are left out first.
    :param n_pairs: most pairs (see :func:`intra_set_pairs`).
    :param rng: the source of the draw.
    :returns: (pairs,) distances; empty when fewer than 2 rows are defined.
    """
    rows = defined_rows(features)
    if len(rows) < 2:
        return np.zeros(0)
    i, j = intra_set_pairs(len(rows), n_pairs, rng)
    return np.linalg.norm(rows[i] - rows[j], axis=1)


def inter_set_distances(
    features: np.ndarray, reference: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """Euclidean distances between the features of a melody of one set and one of the reference.

    :param features: (n, d) features of the set under test; rows with NaN are left out.
    :param reference: (m, d) features of the reference set; rows with NaN are left out.
    :param n_pairs: most pairs (see :func:`inter_set_pairs`).
    :param rng: the source of the draw.
    :returns: (pairs,) distances; empty when either set has no defined row.
    """
    a, b = defined_rows(features), defined_rows(reference)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} and {b.shape[1]}; compare the same feature")
    if not (len(a) and len(b)):
        return np.zeros(0)
    i, j = inter_set_pairs(len(a), len(b), n_pairs, rng)
    return np.linalg.norm(a[i] - b[j], axis=1)


def _density(samples: np.ndarray, min_bandwidth: float):
    """A KDE of ``samples`` as a callable on a grid, and its bandwidth (never below ``min_bandwidth``)."""
    if len(samples) < 2 or np.ptp(samples) == 0:
        centre = float(samples[0])
        return (lambda grid: norm.pdf(grid, centre, min_bandwidth)), min_bandwidth
    kde = gaussian_kde(samples)
    bandwidth = float(np.sqrt(kde.covariance[0, 0]))
    if bandwidth < min_bandwidth:
        kde.set_bandwidth(kde.factor * min_bandwidth / bandwidth)
        bandwidth = min_bandwidth
    return kde, bandwidth


def smoothed_densities(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian-KDE densities of two samples on one grid, each integrating to 1 on it.

    The grid spans both samples and 4 bandwidths beyond; it is one point when both samples hold the
    same single value (then both densities are 1 there).

    :param x: 1-D sample (at least one value).
    :param y: 1-D sample (at least one value).
    :returns: ``(grid, p_x, p_y)``.
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if not (len(x) and len(y)):
        raise ValueError("both samples need at least one value; a set needs 2 melodies with the feature defined")
    pooled = np.concatenate([x, y])
    span = float(np.ptp(pooled))
    if span == 0:
        return pooled[:1], np.ones(1), np.ones(1)
    (kx, bx), (ky, by) = _density(x, MIN_BANDWIDTH_FRACTION * span), _density(y, MIN_BANDWIDTH_FRACTION * span)
    margin = 4 * max(bx, by)
    grid = np.linspace(pooled.min() - margin, pooled.max() + margin, GRID_POINTS)
    px, py = kx(grid), ky(grid)
    return grid, px / trapezoid(px, grid), py / trapezoid(py, grid)


def _integral(values: np.ndarray, grid: np.ndarray) -> float:
    return float(values[0]) if len(grid) == 1 else float(trapezoid(values, grid))


def overlap_area(p: np.ndarray, q: np.ndarray, grid: np.ndarray) -> float:
    """Overlapping area of two densities, ``OA = ∫ min(p, q) dx`` (Yang & Lerch 2018): 1 for equal
    densities, 0 for disjoint ones.

    :param p: density on ``grid``.
    :param q: density on ``grid``.
    :param grid: increasing evaluation points (one point: densities are point masses of weight 1).
    """
    return _integral(np.minimum(p, q), grid)


def kl_divergence(p: np.ndarray, q: np.ndarray, grid: np.ndarray) -> float:
    """Kullback–Leibler divergence ``KL(p ‖ q) = ∫ p log(p / q) dx`` in nats (Yang & Lerch 2018): 0
    for equal densities, larger as ``q`` misses where ``p`` lies.

    Both densities get :data:`DENSITY_FLOOR` added and are renormalised on the grid first.

    :param p: density on ``grid`` (the reference's intra-set distances).
    :param q: density on ``grid`` (the inter-set distances).
    :param grid: increasing evaluation points.
    """
    p, q = p + DENSITY_FLOOR, q + DENSITY_FLOOR
    p, q = p / _integral(p, grid), q / _integral(q, grid)
    return max(0.0, _integral(p * np.log(p / q), grid))


__all__ = [
    "DENSITY_FLOOR",
    "GRID_POINTS",
    "MIN_BANDWIDTH_FRACTION",
    "defined_rows",
    "inter_set_distances",
    "inter_set_pairs",
    "intra_set_distances",
    "intra_set_pairs",
    "kl_divergence",
    "overlap_area",
    "smoothed_densities",
]
