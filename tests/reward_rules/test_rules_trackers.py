"""The incremental detector trackers (docs/spec.md §4 rules 3–8) against direct computations, the rules'
two entry points (registry call and ``rewards`` with the newest notes), and the evaluator's input paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reward_rules import DEFAULT_RULES, Key, Rule, RuleEvaluator, RuleSet, music_theory_rewards
from reward_rules.detectors import AutocorrelationTracker, LeapTracker, MotifTracker, RepetitionTracker, autocorrelation

TOKENS = st.one_of(st.sampled_from([0, 1, 1, 14, 16, 18, 21, 26, 2]), st.integers(0, 37))


@settings(max_examples=60, deadline=None)
@given(melody=st.lists(TOKENS, min_size=1, max_size=32))
def test_autocorrelation_tracker_equals_batch_formula(melody: list[int]) -> None:
    """At every prefix, the running integer sums give the same coefficients as the batch formula."""
    tracker = AutocorrelationTracker(1)
    mel = np.array([melody])
    for t, note in enumerate(melody):
        num = tracker.step(np.array([note]), np.array([t]))[:, 0]  # den, then lags 1-3
        expected = autocorrelation(mel, np.array([t]))[0]
        if num[0] == 0:
            assert np.isnan(expected).all() and (num[1:] == 0).all()
        else:
            np.testing.assert_array_equal(num[1:] / num[0], expected)


def test_autocorrelation_tracker_by_hand() -> None:
    # S = [2, 2, 4, 4]: den = n(n Σ S² − (Σ S)²) = 4 (4·40 − 144) = 64; c = 0.25, -0.5, -0.25.
    tracker = AutocorrelationTracker(1)
    for t, note in enumerate([2, 2, 4, 4]):
        num = tracker.step(np.array([note]), np.array([t]))[:, 0]
    assert num.tolist() == [64, 16, -32, -16]


def test_trackers_by_hand() -> None:
    rep = RepetitionTracker(1)
    assert [bool(rep.step(np.array([a]))[0]) for a in [0, 0, 0, 14, 1, 14, 1, 14]] == [0, 0, 1, 0, 0, 0, 0, 0]
    leap = LeapTracker(2)
    rows = [[14, 23, 21, 18, 16, 14], [14, 23, 31, 37, 1, 1]]  # resolved gradually; leapt twice
    outcomes = [leap.step(np.array(col)).tolist() for col in zip(*rows, strict=True)]
    assert [o[0] for o in outcomes] == [0, 0, 0, 0, 0, 1]
    assert [o[1] for o in outcomes] == [0, 0, -1, 0, 0, 0]  # 31 → 37 is not a leap
    motif = MotifTracker(1, length=24)
    u, repeated = [], []
    for t, a in enumerate([14, 16, 18, 19, 1, 1, 1, 1] * 3):
        motif.step(np.array([a]), np.array([t]))
        u.append(int(motif.distinct()[0]))
        repeated.append(bool(motif.repeated[0]))
    assert u == [0] * 7 + [4] * 17
    assert repeated == [False] * 15 + [True] * 9


def test_tracker_partial_reset() -> None:
    leap = LeapTracker(2)
    for a in (14, 21, 16):  # both leap up from C4, then step down towards it
        leap.step(np.array([a, a]))
    leap.reset(np.array([True, False]))
    assert leap.step(np.array([14, 14])).tolist() == [0, 1]  # row 0 forgot its leap; row 1 resolves


@settings(max_examples=40, deadline=None)
@given(melody=st.lists(TOKENS, min_size=1, max_size=32))
def test_registry_call_equals_rewards_from_notes(melody: list[int]) -> None:
    """Calling a built-in rule as ``fn(melodies, positions, key)`` equals the evaluator's path."""
    key = Key.parse("A minor")
    expected = music_theory_rewards(np.array(melody), length=32, key=key)
    melodies = np.zeros((1, 32), dtype=np.int64)
    fns = [rule.bind(1) for rule in DEFAULT_RULES]
    for t, note in enumerate(melody):
        melodies[0, t] = note
        got = [fn(melodies, np.array([t]), key)[0] for fn in fns]
        np.testing.assert_array_equal(got, expected[t])


def test_user_rule_with_rewards_hook_is_checked() -> None:
    class Lowest:
        def __call__(self, melodies: np.ndarray, positions: np.ndarray, key: Key) -> np.ndarray:
            raise AssertionError("the evaluator passes the notes")

        def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
            return (a == 2).astype(float)

    ev = RuleEvaluator(2, rules=RuleSet([Rule("lowest", Lowest())]))
    assert ev.step(np.array([2, 14]))[:, 0].tolist() == [1.0, 0.0]
    bad = Lowest()
    bad.rewards = lambda a, positions, melodies, key: np.zeros(3)  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="lowest"):
        RuleEvaluator(2, rules=RuleSet([Rule("lowest", bad)])).step(np.array([2, 14]))


def test_evaluator_accepts_any_integer_actions() -> None:
    melody = [14, 16, 1, 0, 23, 21, 9]
    expected = music_theory_rewards(np.array(melody))
    for kind in (np.int64, np.int32, np.uint8, list):
        ev = RuleEvaluator(1)
        got = [ev.step(kind([a]) if kind is list else np.array([a], dtype=kind))[0] for a in melody]
        np.testing.assert_array_equal(got, expected)
