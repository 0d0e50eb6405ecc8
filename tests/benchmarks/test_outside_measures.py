"""The reference of held-out tunes, outside_measures as a sweep trial calls it, and the ranking."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.outside.features import FEATURE_NAMES
from benchmarks.outside.measures import (
    build_reference,
    closest_models,
    compare_feature,
    feature_summary,
    outside_measures,
    reference_summary,
    rule_free_means,
    validation_openings,
)
from melody_env.data import Corpus


def _tunes(n: int, seed: int) -> np.ndarray:
    """``n`` stepwise 32-step melodies in C major: quarter and eighth notes around C4."""
    rng = np.random.default_rng(seed)
    scale = np.array([14, 16, 18, 19, 21, 23, 25])
    out = []
    for _ in range(n):
        melody = []
        while len(melody) < 32:
            melody += [int(rng.choice(scale)), *[1] * (int(rng.choice([2, 4])) - 1)]
        out.append(melody[:32])
    return np.array(out)


LEAPS = np.tile([2, 37, 0, *[1] * 29], (30, 1))  # C3 then B5, then silence: unlike any tune above


def test_validation_openings_are_the_first_32_steps_of_long_enough_validation_melodies() -> None:
    melodies = [np.arange(40) % 38, np.full(20, 14), np.full(32, 5), np.full(50, 7)]
    corpus = Corpus(melodies=melodies, ids=list("abcd"), is_valid=np.array([True, True, True, False]))
    np.testing.assert_array_equal(validation_openings(corpus), [np.arange(32), np.full(32, 5)])
    with pytest.raises(ValueError, match="no validation melody of 64 steps"):
        validation_openings(corpus, length=64)


def test_compare_feature_of_identical_and_far_sets() -> None:
    reference = np.arange(20, dtype=float)[:, None]
    intra = np.abs(reference[:, None, 0] - reference[None, :, 0])[np.triu_indices(20, 1)]
    same = compare_feature(intra, reference, reference.copy(), 10_000, np.random.default_rng(0))
    far = compare_feature(intra, reference, reference + 100, 10_000, np.random.default_rng(0))
    assert same["overlap_area"] > 0.9 > 0.01 > far["overlap_area"]
    assert far["kl_divergence"] > same["kl_divergence"] >= 0
    assert far["inter_mean"] == pytest.approx(100.0)  # every pair is (i, j + 100): mean |i − j − 100| = 100
    assert same["reference_intra_mean"] == pytest.approx(intra.mean()) and same["defined"] == 20


def test_feature_summary_skips_undefined_melodies() -> None:
    assert feature_summary(np.array([[1.0], [3.0], [np.nan]])) == {"mean": 2.0, "std": 1.0}
    histogram = feature_summary(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert histogram == {"mean": [0.5, 0.5], "std": [0.5, 0.5]}


def test_reference_and_its_split_half() -> None:
    reference = build_reference(_tunes(24, 0), seed=0, n_pairs=500, key_sample=4)
    assert set(reference.features) == set(reference.intra) == set(reference.split_half) == set(FEATURE_NAMES)
    assert len(reference.intra["pitch_range"]) == 24 * 23 // 2  # fewer pairs than n_pairs: all of them
    for row in reference.split_half.values():
        assert 0 <= row["overlap_area"] <= 1 and row["kl_divergence"] >= 0
    summary = reference_summary(reference)
    assert summary["melodies"] == 24 and summary["key"]["analysed"] == 4
    assert summary["features"]["scale_consistency"]["mean"] == 1.0
    with pytest.raises(ValueError, match="at least 4 melodies"):
        build_reference(_tunes(3, 0))


def test_outside_measures_tell_tunes_from_leaps() -> None:
    reference = build_reference(_tunes(40, 0), seed=0, n_pairs=2_000, key_sample=4)
    alike = outside_measures(_tunes(30, 1), reference, seed=0, key_sample=4)
    unlike = outside_measures(LEAPS, reference, seed=0, key_sample=4)
    assert alike["melodies"] == 30 and set(alike["features"]) == set(FEATURE_NAMES)
    for name in ("pitch_range", "empty_beat_rate", "interval_histogram", "note_length_histogram"):
        assert alike["features"][name]["overlap_area"] > unlike["features"][name]["overlap_area"], name
    assert unlike["features"]["pitch_range"]["overlap_area"] < 0.01  # range 35 against ranges of at most 11
    assert unlike["features"]["pitch_range"]["mean"] == 35.0 and unlike["features"]["pitch_range"]["intra_mean"] == 0
    assert alike["rule_free_overlap_area"] > unlike["rule_free_overlap_area"]
    assert closest_models({"leaps": unlike, "tunes": alike})[0][0] == "tunes"


def test_outside_measures_is_seeded_and_builds_a_reference_from_melodies() -> None:
    tunes, model = _tunes(20, 0), _tunes(15, 2)
    built = outside_measures(model, build_reference(tunes, seed=3, key_sample=5), seed=3, key_sample=5)
    direct = outside_measures(model, tunes, seed=3, key_sample=5)
    for name in FEATURE_NAMES:
        assert built["features"][name]["overlap_area"] == direct["features"][name]["overlap_area"]
    assert built["key"]["share_c_major"] == direct["key"]["share_c_major"]


def test_rule_free_means_and_ranking() -> None:
    rows = {name: {"overlap_area": 0.5, "kl_divergence": 1.0} for name in FEATURE_NAMES}
    rows["pitch_range"] = {"overlap_area": 0.8, "kl_divergence": 0.1}
    means = rule_free_means(rows)
    assert means["rule_free_overlap_area"] == pytest.approx((0.8 + 0.5 + 0.5) / 3)
    assert means["rule_free_kl_divergence"] == pytest.approx((0.1 + 1 + 1) / 3)
    assert means["ruled_overlap_area"] == 0.5 and means["ruled_kl_divergence"] == 1.0
    models = {
        "a": {"rule_free_overlap_area": 0.4},
        "b": {"rule_free_overlap_area": float("nan")},
        "c": {"rule_free_overlap_area": 0.9},
    }
    assert [name for name, _ in closest_models(models)] == ["c", "a", "b"]
