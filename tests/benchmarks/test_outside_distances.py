"""The Yang–Lerch steps on hand-made feature vectors: pairs, distances, KDE, overlapping area, KL."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from scipy.integrate import trapezoid

from benchmarks.outside.distances import (
    defined_rows,
    inter_set_distances,
    inter_set_pairs,
    intra_set_distances,
    intra_set_pairs,
    kl_divergence,
    overlap_area,
    smoothed_densities,
)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_small_sets_use_every_pair() -> None:
    i, j = intra_set_pairs(4, 100, _rng())
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    i, j = inter_set_pairs(2, 3, 100, _rng())
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(a, b) for a in range(2) for b in range(3)]


def test_large_sets_draw_seeded_pairs_of_different_melodies() -> None:
    i, j = intra_set_pairs(50, 500, _rng())
    assert len(i) == 500 and np.all(i != j) and i.max() < 50 and j.max() < 50
    assert set(j.tolist()) == set(range(50))  # the shift past i still reaches every melody
    np.testing.assert_array_equal(i, intra_set_pairs(50, 500, _rng())[0])
    a, b = inter_set_pairs(30, 40, 200, _rng())
    assert len(a) == 200 and a.max() < 30 and b.max() < 40


def test_distances_are_euclidean_and_skip_undefined_rows() -> None:
    np.testing.assert_allclose(sorted(intra_set_distances(np.array([[0.0], [1.0], [3.0]]), 10, _rng())), [1, 2, 3])
    vectors = np.array([[0.0, 0.0], [3.0, 4.0], [np.nan, 1.0]])
    np.testing.assert_allclose(intra_set_distances(vectors, 10, _rng()), [5.0])
    assert len(defined_rows(vectors)) == 2
    inter = inter_set_distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]), 10, _rng())
    np.testing.assert_allclose(sorted(inter), [1.0, 5.0])
    assert len(intra_set_distances(np.array([[1.0], [np.nan]]), 10, _rng())) == 0
    with pytest.raises(ValueError, match="feature sizes differ"):
        inter_set_distances(np.zeros((2, 3)), np.zeros((2, 4)), 10, _rng())


def test_densities_integrate_to_one() -> None:
    x, y = _rng().normal(0, 1, 300), _rng().normal(2, 0.5, 200)
    grid, px, py = smoothed_densities(x, y)
    assert trapezoid(px, grid) == pytest.approx(1.0) and trapezoid(py, grid) == pytest.approx(1.0)
    assert grid[0] < min(x.min(), y.min()) and grid[-1] > max(x.max(), y.max())


def test_identical_samples_overlap_fully() -> None:
    x = _rng().exponential(1.0, 400)
    grid, p, q = smoothed_densities(x, x.copy())
    assert overlap_area(p, q, grid) == pytest.approx(1.0)
    assert kl_divergence(p, q, grid) == pytest.approx(0.0, abs=1e-12)


def test_one_shared_value_is_a_full_overlap() -> None:
    grid, p, q = smoothed_densities(np.zeros(20), np.zeros(30))
    assert overlap_area(p, q, grid) == 1.0 and kl_divergence(p, q, grid) == 0.0


def test_disjoint_point_masses_do_not_overlap() -> None:
    grid, p, q = smoothed_densities(np.zeros(50), np.ones(50))  # constant samples: the narrow-bandwidth floor
    assert overlap_area(p, q, grid) < 1e-6
    assert kl_divergence(p, q, grid) > 10


def test_overlap_and_kl_of_two_normals_match_their_formulas() -> None:
    # N(0, 1) and N(1, 1): OA = 2 Φ(−1/2) = 0.617, KL = (μ1 − μ2)² / 2 = 0.5 (the KDE widens both a little).
    x, y = _rng().normal(0, 1, 5000), np.random.default_rng(1).normal(1, 1, 5000)
    grid, p, q = smoothed_densities(x, y)
    assert overlap_area(p, q, grid) == pytest.approx(2 * NormalDist().cdf(-0.5), abs=0.03)
    assert kl_divergence(p, q, grid) == pytest.approx(0.5, abs=0.06)


def test_kl_is_not_negative_and_grows_with_the_gap() -> None:
    x = _rng().normal(0, 1, 500)
    kls = []
    for shift in (0.5, 1.0, 2.0):
        grid, p, q = smoothed_densities(x, np.random.default_rng(2).normal(shift, 1, 500))
        kls.append(kl_divergence(p, q, grid))
    assert 0 <= kls[0] < kls[1] < kls[2]


def test_empty_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        smoothed_densities(np.zeros(0), np.ones(3))
