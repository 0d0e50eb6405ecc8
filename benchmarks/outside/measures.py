"""The outside measures of a set of melodies against real held-out tunes.

The reference is the validation split of the corpus (docs/spec.md §2): the first 32 steps of every
held-out melody at least that long (:func:`validation_openings`). :func:`build_reference` computes
its features, its intra-set distances per feature and its split-half comparison once: the
validation melodies shuffled (seeded) and halved, the second half compared with the first exactly
as a model is compared with the whole set. That gives the overlapping area and KL divergence of two
samples of real tunes, the best a model can be expected to reach.

:func:`outside_measures` is what a sweep trial calls: the features of a model's ``(n, 32)`` melodies,
per feature the Yang–Lerch OA and KL of the reference's intra-set distances against the inter-set
distances (:mod:`benchmarks.outside.distances`), and music21's key check
(:mod:`benchmarks.outside.keys`). :func:`closest_models` ranks models by their mean OA over the
features that no rule measures (:data:`~benchmarks.outside.features.RULE_FREE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.outside.distances import (
    defined_rows,
    inter_set_distances,
    intra_set_distances,
    kl_divergence,
    overlap_area,
    smoothed_densities,
)
from benchmarks.outside.features import FEATURES, RULE_FREE, melody_features
from benchmarks.outside.keys import key_check
from melody_env.data import Corpus

MELODY_LENGTH = 32
"""Steps of a composed melody and of a validation opening (docs/spec.md §7)."""
DEFAULT_PAIRS = 10_000
"""Pairs of melodies sampled per distance distribution."""
DEFAULT_KEY_SAMPLE = 1_000
"""Melodies per set given to music21's key analysis."""
MIN_REFERENCE = 4
"""Fewest reference melodies: two per half of the split-half comparison."""


def validation_openings(corpus: Corpus, length: int = MELODY_LENGTH) -> np.ndarray:
    """The first ``length`` steps of every validation melody at least that long.

    :param corpus: from :func:`melody_env.data.load_corpus` (about 4 s from its cache; building the
        cache takes about a minute).
    :param length: steps per opening.
    :returns: (n, length) int64 note classes.
    """
    openings = [m[:length] for m in corpus.valid if len(m) >= length]
    if not openings:
        raise ValueError(f"the corpus has no validation melody of {length} steps or more; use a larger corpus")
    return np.stack(openings).astype(np.int64)


@dataclass(frozen=True)
class Reference:
    """The held-out tunes, prepared once for any number of comparisons.

    :param melodies: (m, T) validation openings.
    :param features: feature name → (m, size) features.
    :param intra: feature name → the reference's intra-set distances.
    :param split_half: feature name → OA and KL of the second half against the first.
    :param key: music21's key check of the reference (as :func:`~benchmarks.outside.keys.key_check`).
    :param n_pairs: pairs per distance distribution.
    :param seed: seed of its pairs and halves.
    """

    melodies: np.ndarray
    features: dict[str, np.ndarray]
    intra: dict[str, np.ndarray]
    split_half: dict[str, dict[str, float]]
    key: dict[str, float | int]
    n_pairs: int
    seed: int


def _rng(seed: int, feature: int, role: int) -> np.random.Generator:
    """One generator per (seed, feature, role), so a feature's pairs do not depend on the others."""
    return np.random.default_rng((seed, feature, role))


def compare_feature(
    reference_intra: np.ndarray, reference: np.ndarray, features: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> dict[str, float]:
    """The Yang–Lerch comparison of one feature of a set with the reference.

    :param reference_intra: intra-set distances of the reference.
    :param reference: (m, size) reference features.
    :param features: (n, size) features of the set under test.
    :param n_pairs: pairs of the inter-set and the set's own intra-set distances.
    :param rng: the source of the pairs.
    :returns: ``overlap_area`` and ``kl_divergence`` of the reference intra-set density against the
        inter-set one (NaN without defined values), the means of the inter-set, the set's own
        intra-set and the reference's intra-set distances, and ``defined`` (melodies with the feature).
    """
    inter = inter_set_distances(features, reference, n_pairs, rng)
    own = intra_set_distances(features, n_pairs, rng)
    oa = kl = float("nan")
    if len(inter) and len(reference_intra):
        grid, p, q = smoothed_densities(reference_intra, inter)
        oa, kl = overlap_area(p, q, grid), kl_divergence(p, q, grid)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else float("nan")

    return {
        "overlap_area": oa,
        "kl_divergence": kl,
        "inter_mean": mean(inter),
        "intra_mean": mean(own),
        "reference_intra_mean": mean(reference_intra),
        "defined": len(defined_rows(features)),
    }


def feature_summary(features: np.ndarray) -> dict[str, float | list[float]]:
    """Mean and standard deviation of a feature over the melodies where it is defined.

    :param features: (n, size) features.
    :returns: ``mean`` and ``std``, floats for a scalar feature, lists for a histogram.
    """
    rows = defined_rows(features)
    mean = rows.mean(0) if len(rows) else np.full(rows.shape[1], np.nan)
    std = rows.std(0) if len(rows) else np.full(rows.shape[1], np.nan)
    if rows.shape[1] == 1:
        return {"mean": float(mean[0]), "std": float(std[0])}
    return {"mean": mean.tolist(), "std": std.tolist()}


def _compare_sets(
    reference: dict[str, np.ndarray],
    intra: dict[str, np.ndarray],
    features: dict[str, np.ndarray],
    n_pairs: int,
    seed: int,
) -> dict[str, dict]:
    out = {}
    for k, f in enumerate(FEATURES):
        row = compare_feature(intra[f.name], reference[f.name], features[f.name], n_pairs, _rng(seed, k, 1))
        out[f.name] = {**row, **feature_summary(features[f.name])}
    return out


def build_reference(
    melodies: np.ndarray, seed: int = 0, n_pairs: int = DEFAULT_PAIRS, key_sample: int = DEFAULT_KEY_SAMPLE
) -> Reference:
    """Features, intra-set distances, split-half comparison and key check of the held-out tunes.

    :param melodies: (m, T) reference melodies, m ≥ :data:`MIN_REFERENCE` (e.g. :func:`validation_openings`).
    :param seed: seed of the pairs, the halves and the key sample.
    :param n_pairs: pairs per distance distribution.
    :param key_sample: melodies given to music21's key analysis.
    """
    if len(melodies) < MIN_REFERENCE:
        raise ValueError(
            f"the reference needs at least {MIN_REFERENCE} melodies (2 per half), got {len(melodies)}; "
            "use a corpus with more validation melodies"
        )
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be at least 1, got {n_pairs}")
    features = melody_features(melodies)
    intra = {f.name: intra_set_distances(features[f.name], n_pairs, _rng(seed, k, 0)) for k, f in enumerate(FEATURES)}
    order = np.random.default_rng((seed, 2)).permutation(len(melodies))
    first, second = np.array_split(order, 2)
    halves = [{name: x[rows] for name, x in features.items()} for rows in (first, second)]
    half_intra = {
        f.name: intra_set_distances(halves[0][f.name], n_pairs, _rng(seed, k, 3)) for k, f in enumerate(FEATURES)
    }
    split = _compare_sets(halves[0], half_intra, halves[1], n_pairs, seed + 1)
    split_half = {name: {m: row[m] for m in ("overlap_area", "kl_divergence")} for name, row in split.items()}
    return Reference(
        np.asarray(melodies), features, intra, split_half, key_check(melodies, key_sample, seed), n_pairs, seed
    )


def reference_summary(reference: Reference) -> dict:
    """The reference's side of a report: size, per-feature statistics and split half, key check."""
    features = {
        f.name: {
            **feature_summary(reference.features[f.name]),
            "intra_mean": float(reference.intra[f.name].mean()) if len(reference.intra[f.name]) else float("nan"),
            "defined": len(defined_rows(reference.features[f.name])),
            "split_half": reference.split_half[f.name],
        }
        for f in FEATURES
    }
    return {"melodies": len(reference.melodies), "features": features, "key": reference.key}


def rule_free_means(features: dict[str, dict]) -> dict[str, float]:
    """Mean OA and KL over the rule-free features (:data:`RULE_FREE`) and over the others.

    :param features: feature name → a row with ``overlap_area`` and ``kl_divergence``.
    """
    others = [f.name for f in FEATURES if f.name not in RULE_FREE]
    return {
        f"{group}_{metric}": float(np.mean([features[name][metric] for name in names]))
        for group, names in (("rule_free", RULE_FREE), ("ruled", others))
        for metric in ("overlap_area", "kl_divergence")
    }


def outside_measures(
    melodies: np.ndarray, reference: Reference | np.ndarray, seed: int = 0, key_sample: int = DEFAULT_KEY_SAMPLE
) -> dict:
    """How close a set of melodies is to real held-out tunes, on features of an outside library.

    :param melodies: (n, T) note classes, e.g. one sweep trial's composed melodies.
    :param reference: a :class:`Reference`, or reference melodies to build one from (slow to repeat:
        build it once with :func:`build_reference` when comparing many sets).
    :param seed: seed of the inter-set pairs and the key sample.
    :param key_sample: melodies given to music21's key analysis.
    :returns: ``melodies`` (n), ``features`` (per feature: OA, KL, distance means, defined, mean,
        std), the rule-free and ruled means of OA and KL, and ``key`` (the key check).
    """
    if not isinstance(reference, Reference):
        reference = build_reference(np.asarray(reference), seed, key_sample=key_sample)
    features = _compare_sets(reference.features, reference.intra, melody_features(melodies), reference.n_pairs, seed)
    return {
        "melodies": len(melodies),
        "features": features,
        **rule_free_means(features),
        "key": key_check(melodies, key_sample, seed),
    }


def closest_models(models: dict[str, dict]) -> list[tuple[str, float]]:
    """Models ranked from closest to farthest from real tunes on the rule-free features (mean OA).

    :param models: model name → :func:`outside_measures` result.
    """
    ranked = [(name, m["rule_free_overlap_area"]) for name, m in models.items()]
    return sorted(ranked, key=lambda x: (np.isnan(x[1]), -x[1]))


__all__ = [
    "DEFAULT_KEY_SAMPLE",
    "DEFAULT_PAIRS",
    "MELODY_LENGTH",
    "MIN_REFERENCE",
    "Reference",
    "build_reference",
    "closest_models",
    "compare_feature",
    "feature_summary",
    "outside_measures",
    "reference_summary",
    "rule_free_means",
    "validation_openings",
]
