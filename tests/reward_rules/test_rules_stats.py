"""Table 1 statistics (docs/spec.md §7), their intervals and the extra statistics, on hand-worked samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reward_rules import (
    RULE_NAMES,
    TABLE1_KEYS,
    Key,
    MelodyScores,
    extra_stats,
    music_theory_rewards,
    table1_intervals,
    table1_intervals_of,
    table1_stats,
    table1_stats_of,
)
from reward_rules.stats import bootstrap_mean_interval, score_melodies, wilson_interval

CONSTANT = [14] * 32
NAN = float("nan")
PERIODIC = ([14, 16, 18] * 11)[:32]


def test_keys_are_the_eleven_of_table1() -> None:
    assert tuple(table1_stats(np.array([PERIODIC]))) == TABLE1_KEYS
    assert len(TABLE1_KEYS) == 11


def test_constant_melody() -> None:
    # Repetition from the 6th note: 27 of 32; every coefficient is 0/0 and there is no leap: NaN (n = 0).
    stats = table1_stats(np.array([CONSTANT]))
    np.testing.assert_equal(stats, {
        "notes_excessively_repeated": 27 / 32, "autocorrelation_lag1": NAN, "autocorrelation_lag2": NAN,
        "autocorrelation_lag3": NAN, "notes_not_in_key": 0.0, "melodies_starting_with_tonic": 1.0,
        "leaps_resolved": NAN, "unique_max_note": 0.0, "unique_min_note": 0.0, "notes_in_motif": 0.0,
        "notes_in_repeated_motif": 0.0,
    })  # fmt: skip
    intervals = table1_intervals(np.array([CONSTANT]))
    for name in ("autocorrelation_lag1", "leaps_resolved"):
        assert intervals[name].n == 0 and np.isnan([intervals[name].low, intervals[name].high]).all()


def test_no_leap_is_nan_not_zero_percent_resolved() -> None:
    # Steps of a second or a third only (at most 4 semitones, never the 7 of a leap): nothing to resolve.
    stats = table1_stats(np.array([PERIODIC, [14, 16, 14, 18] * 8]))
    assert np.isnan(stats["leaps_resolved"])
    # One melody leaps C4 → A4 (9 semitones) and steps back down to C4 (resolved): 1 of 1.
    stats = table1_stats(np.array([[14, 23, 21, 18, 16, 14] + [14] * 26, PERIODIC]))
    assert stats["leaps_resolved"] == 1.0


def test_constant_melodies_are_skipped_in_the_autocorrelation_mean() -> None:
    # [2, 2, 4, 4]: lag-1 coefficient 0.25 (as below); two constant rows do not pull the mean to 0.
    stats = table1_stats(np.array([[2, 2, 4, 4], [14] * 4, [20] * 4]))
    assert stats["autocorrelation_lag1"] == pytest.approx(0.25)
    assert table1_intervals(np.array([[2, 2, 4, 4], [14] * 4]))["autocorrelation_lag1"].n == 1


def test_periodic_melody_motifs() -> None:
    # C D E repeated: motif (u = 3) at every index >= 7 → 25/32; the last 8 occur 9 steps earlier
    # without overlap from index 16 on → 16/32. All in key, no leap (steps of 2, 2, 4), E is the
    # highest and C the lowest, both repeated.
    stats = table1_stats(np.array([PERIODIC]))
    assert stats["notes_in_motif"] == 25 / 32
    assert stats["notes_in_repeated_motif"] == 16 / 32
    assert stats["notes_not_in_key"] == 0.0
    assert stats["notes_excessively_repeated"] == 0.0
    assert stats["unique_max_note"] == stats["unique_min_note"] == 0.0


def test_leaps_resolved_ratio_and_autocorrelation_mean() -> None:
    # Row 0: one leap resolved gradually. Row 1: one leap then leaping twice. → 1 / (1 + 1).
    melodies = np.array([[14, 23, 21, 18, 16, 14], [14, 23, 31, 37, 1, 1]])
    assert table1_stats(melodies)["leaps_resolved"] == 0.5
    # Autocorrelation: [2, 2, 4, 4] has lag-1 c = 0.25, the constant row is skipped → mean 0.25.
    stats = table1_stats(np.array([[2, 2, 4, 4], [14, 14, 14, 14]]))
    assert stats["autocorrelation_lag1"] == pytest.approx(0.25)
    assert stats["autocorrelation_lag2"] == pytest.approx(-0.5)


def test_tonic_start_unique_extremes_and_key() -> None:
    # Row 0 starts on C4 and has unique highest (G4) and lowest (C4); row 1 starts on D4, has C#4
    # (out of key) and a repeated lowest pitch.
    melodies = np.array([[14, 16, 21, 16], [16, 15, 15, 18]])
    stats = table1_stats(melodies)
    assert stats["melodies_starting_with_tonic"] == 0.5
    assert stats["unique_max_note"] == 1.0
    assert stats["unique_min_note"] == 0.5
    assert stats["notes_not_in_key"] == 2 / 8
    assert table1_stats(melodies, key=Key.parse("D"))["melodies_starting_with_tonic"] == 0.5


def test_statistics_agree_with_rule_rewards() -> None:
    # The per-note detectors fire exactly where the rules pay (same detectors).
    rng = np.random.default_rng(3)
    melodies = rng.choice([0, 1, 14, 16, 18, 21, 23, 26, 15], size=(20, 32))
    scores = score_melodies(melodies)
    for row, melody in enumerate(melodies):
        rewards = music_theory_rewards(melody)
        assert ((rewards[:, RULE_NAMES.index("repetition")] < 0) == scores.repeated[row]).all()
        assert ((rewards[:, RULE_NAMES.index("motif")] > 0) == scores.in_motif[row]).all()
        assert ((rewards[:, RULE_NAMES.index("repeated_motif")] > 0) == scores.in_repeated_motif[row]).all()
        assert (np.sign(rewards[:, RULE_NAMES.index("leap_resolution")]) == scores.leap[row]).all()
        assert (rewards[:, RULE_NAMES.index("key")] < 0).sum() == scores.not_in_key[row].sum()
        extremes = rewards[-1, RULE_NAMES.index("unique_extremes")]
        assert extremes == 3.0 * scores.unique_max[row] + 3.0 * scores.unique_min[row]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 33)), elements=st.sampled_from([0, 1, 14, 16, 21, 37]))
)
def test_statistics_stay_in_range(melodies: np.ndarray) -> None:
    stats = table1_stats(melodies)
    scores = score_melodies(melodies)
    undefined = {"leaps_resolved": not scores.leap.any()}  # NaN exactly where there is nothing to count
    undefined |= {f"autocorrelation_lag{k}": bool((melodies == melodies[:, :1]).all()) for k in (1, 2, 3)}
    for name, value in stats.items():
        assert bool(np.isnan(value)) == undefined.get(name, False), name
        lo = -1.0 if name.startswith("autocorrelation") else 0.0
        assert np.isnan(value) or lo <= value <= 1.0, (name, value)
    for name, value in extra_stats(melodies).items():
        assert np.isfinite(value) and value >= 0, name
    for iv in table1_intervals(melodies, n_bootstrap=20).values():
        if np.isnan(iv.value):
            assert iv.n == 0 and np.isnan(iv.low) and np.isnan(iv.high)
        else:
            assert iv.low <= iv.value + 1e-12 and iv.value <= iv.high + 1e-12


def test_wilson_and_bootstrap() -> None:
    # Wilson 5/10 at 95 %: centre 0.5, half-width z/(1 + z²/10)·sqrt(0.025 + z²/400) = 0.2634.
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert np.isnan(wilson_interval(0, 0)).all()  # no trials: no interval
    assert wilson_interval(0, 100)[0] == 0.0
    # Bootstrap of a constant column is that constant; of 0/1 halves it brackets 0.5.
    low, high = bootstrap_mean_interval(np.full(50, 0.3))
    assert low == pytest.approx(0.3) and high == pytest.approx(0.3)
    low, high = bootstrap_mean_interval(np.array([0.0, 1.0] * 500), n_bootstrap=200, seed=1)
    assert 0.45 < low < 0.5 < high < 0.55
    assert np.isnan(bootstrap_mean_interval(np.zeros((0, 3)))).all()
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_mean_interval(np.ones(4), n_bootstrap=0)


def test_intervals_match_stats_and_are_seeded() -> None:
    melodies = np.random.default_rng(0).integers(0, 38, size=(200, 32))
    stats = table1_stats(melodies)
    a, b = table1_intervals(melodies, seed=4), table1_intervals(melodies, seed=4)
    assert a == b
    assert {k: v.value for k, v in a.items()} == stats
    assert a["notes_in_motif"].n == 200 * 32 and a["unique_max_note"].n == 200


def test_scores_of_parts_joined_give_the_statistics_of_the_whole() -> None:
    melodies = np.random.default_rng(1).integers(0, 38, size=(90, 32))
    key = Key.parse("D")
    joined = MelodyScores.concatenate([score_melodies(melodies[s : s + 40], key) for s in (0, 40, 80)])
    assert table1_stats_of(joined) == table1_stats(melodies, key)
    assert table1_intervals_of(joined, seed=3) == table1_intervals(melodies, key, seed=3)
    with pytest.raises(ValueError, match="confidence"):
        table1_intervals_of(joined, confidence=1.0)


def test_extra_stats_by_hand() -> None:
    # Row 0: C D C D → pitch classes 1:1 → 1 bit, 2 distinct; row 1: 4 × C → 0 bits, 1 distinct.
    stats = extra_stats(np.array([[14, 16, 14, 16], [14, 14, 14, 14]]))
    assert stats == {
        "pitch_class_entropy": 0.5, "distinct_pitches": 1.5, "distinct_melodies": 1.0,
        "rest_share": 0.0, "hold_share": 0.0,
    }  # fmt: skip
    # Two identical rows (mode collapse): half distinct; one rest and one hold in four tokens.
    # C4 and C5 share a pitch class (0 bits) but are two distinct pitches.
    stats = extra_stats(np.array([[14, 0, 1, 26], [14, 0, 1, 26]]))
    assert stats == {
        "pitch_class_entropy": 0.0, "distinct_pitches": 2.0, "distinct_melodies": 0.5,
        "rest_share": 0.25, "hold_share": 0.25,
    }  # fmt: skip


@pytest.mark.parametrize("bad", [[[-1, 14]], [[38, 14]], [[14.0, 2.0]], [14, 16], [[]]])
def test_invalid_input_raises(bad: list) -> None:
    with pytest.raises(ValueError, match=r"class|dtype|shape"):
        table1_stats(np.array(bad))
    with pytest.raises(ValueError, match=r"class|dtype|shape"):
        extra_stats(np.array(bad))
