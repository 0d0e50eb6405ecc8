"""RuleEvaluator ≡ music_theory_rewards (property tests), a plain-Python oracle of docs/spec.md §4, the
registry, and input validation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reward_rules import DEFAULT_RULES, RULE_NAMES, Key, Rule, RuleEvaluator, RuleSet, music_theory_rewards

# Melodies that hit the rules often: a few tonal pitches, holds and rests, plus any class.
TOKENS = st.one_of(st.sampled_from([0, 1, 1, 14, 16, 18, 21, 26, 2]), st.integers(0, 37))


def oracle(melody: list[int], length: int, key: Key) -> np.ndarray:
    """docs/spec.md §4 transcribed note by note in plain Python (an independent second reading)."""
    pc = lambda k: (k + 46) % 12  # noqa: E731
    out = np.zeros((len(melody), 9))
    direction, leapt_from, steps = 0, 0, 0
    for beat, a in enumerate(melody):
        hist, s = melody[:beat], melody[: beat + 1]
        r = out[beat]
        r[0] = 0.0 if key.in_key[a] else -1.0
        if (beat in (0, length - 4) and a == key.tonic_class) or (beat == length - 3 and a == 1):
            r[1] = 3.0
        if beat > length - 3 and a in (0, 1):
            r[1] = 3.0
        n, mark = 0, False
        for tok in reversed(hist):
            if tok == a:
                n += 1
            elif tok in (0, 1):
                mark = True
            else:
                break
        r[2] = -100.0 if (a == 0 and n > 1) or (not mark and n > 4) or (mark and n > 6) else 0.0
        x = [Fraction(t) - Fraction(sum(s), len(s)) for t in s]  # exact, so ties at 0.15 are exact
        var = sum(v * v for v in x) / len(s)
        for lag in (1, 2, 3):
            if var > 0:
                c = abs(sum(x[i] * x[i + lag] for i in range(len(s) - lag)) / len(s) / var)
                r[3] -= 3 * float(c) if c > Fraction(15, 100) else 0.0
        u = len({t for t in s[-8:] if t > 1}) if len(s) >= 8 else 0
        if u >= 3:
            r[4] = 3 + 0.3 * (u - 3)
            earlier = s[: len(s) - 8]
            if any(earlier[i : i + 8] == s[-8:] for i in range(len(earlier) - 7)):
                r[5] = 4 + (u - 3)
        prev = next((t for t in reversed(hist) if t > 1), None)
        if prev is not None:
            strong = pc(prev) in (key.tonic, key.dominant_pc)
            d = abs(a - prev)
            if a == 1:
                r[6] = 1.5 if strong else 0.375
            elif a == 0:
                r[6] = 0.75 if strong else 0.25
            elif d == 7 and strong:
                r[6] = 0.5
            elif d == 4 and pc(prev) in (key.tonic, key.third_pc):
                r[6] = 0.75
            else:
                r[6] = {4: 0.45, 2: 0.4, 5: 0.35, 9: 0.25, 7: 0.1, 11: -1.5}.get(d, -5.0 if d > 12 else 0.0)
        if a > 1 and prev is not None and abs(a - prev) >= 7:
            up = 1 if a > prev else -1
            if direction and direction != up:
                r[7] = 5.0 if steps > 6 else 0.0
                direction = 0
            elif direction:
                r[7] = -5.0
            else:
                direction, leapt_from = up, prev
            steps = 0
        else:
            steps += 1
            if a > 1 and ((direction == 1 and a <= leapt_from) or (direction == -1 and a >= leapt_from)):
                r[7], direction = 5.0, 0
        if beat == length - 1:
            pitches = [t for t in s if t > 1]
            r[8] = 3.0 * (s.count(max(s)) == 1) + 3.0 * (bool(pitches) and s.count(min(pitches)) == 1)
    return out


@settings(max_examples=150, deadline=None)
@given(
    melody=st.lists(TOKENS, min_size=1, max_size=32),
    key=st.sampled_from([Key(), Key.parse("A minor"), Key.parse("F# major"), Key.parse("Eb minor")]),
)
def test_matches_plain_python_oracle(melody: list[int], key: Key) -> None:
    length = max(len(melody), 20)
    got = music_theory_rewards(np.array(melody), length=length, key=key)
    np.testing.assert_allclose(got, oracle(melody, length, key), rtol=0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n_rows=st.integers(1, 5), length=st.sampled_from([8, 16, 32]))
def test_batched_evaluator_equals_per_melody(data: st.DataObject, n_rows: int, length: int) -> None:
    """Rows restart at different times (partial resets, episodes of any length <= `length`);
    every episode's rows equal music_theory_rewards of that episode, bit for bit."""
    melodies = st.lists(TOKENS, min_size=1, max_size=length)
    episodes = [data.draw(st.lists(melodies, min_size=1, max_size=3)) for _ in range(n_rows)]
    ev = RuleEvaluator(n_rows, length=length)
    ep_index = [0] * n_rows
    step_in_ep = [0] * n_rows
    results: list[list[list[np.ndarray]]] = [[[] for _ in eps] for eps in episodes]
    done = [False] * n_rows
    while not all(done):
        # A finished row replays the first note of its last episode (its output is ignored).
        actions = np.array(
            [eps[min(i, len(eps) - 1)][t] for eps, i, t in zip(episodes, ep_index, step_in_ep, strict=True)]
        )
        out = ev.step(actions)
        restart = np.zeros(n_rows, dtype=bool)
        for row in range(n_rows):
            if done[row]:
                continue
            results[row][ep_index[row]].append(out[row])
            step_in_ep[row] += 1
            if step_in_ep[row] == len(episodes[row][ep_index[row]]):
                ep_index[row] += 1
                step_in_ep[row] = 0
                restart[row] = True
                done[row] = ep_index[row] == len(episodes[row])
        ev.reset(restart | np.array(done))  # finished rows keep being reset so they never overflow
    for row, eps in enumerate(episodes):
        for ep, melody in enumerate(eps):
            expected = music_theory_rewards(np.array(melody), length=length)
            np.testing.assert_array_equal(np.array(results[row][ep]), expected)


@settings(max_examples=30, deadline=None)
@given(melody=st.lists(st.integers(2, 35), min_size=1, max_size=32), tonic=st.integers(0, 9), minor=st.booleans())
def test_transposition_invariance(melody: list[int], tonic: int, minor: bool) -> None:
    """Every rule is relative to the key: shifting a melody and its key up a tone changes nothing."""
    mode = "minor" if minor else "major"
    base = music_theory_rewards(np.array(melody), key=Key(tonic, mode))
    moved = music_theory_rewards(np.array(melody) + 2, key=Key(tonic + 2, mode))
    np.testing.assert_array_equal(base, moved)


def test_evaluator_state_accessors_and_overflow() -> None:
    ev = RuleEvaluator(2, length=3)
    ev.step(np.array([14, 16]))
    assert ev.positions.tolist() == [1, 1]
    assert ev.melodies.tolist() == [[14, 0, 0], [16, 0, 0]]
    assert ev.rule_names == RULE_NAMES
    ev.step(np.array([1, 1]))
    ev.step(np.array([0, 0]))
    with pytest.raises(ValueError, match="reset"):
        ev.step(np.array([1, 1]))
    ev.reset(np.array([True, False]))
    assert ev.positions.tolist() == [0, 3]
    with pytest.raises(ValueError):
        ev.melodies[0, 0] = 5  # read-only view


@pytest.mark.parametrize("bad", [np.array([-1, 14]), np.array([38, 14]), np.array([14.0, 2.0])])
def test_invalid_classes_raise(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"class|dtype"):
        RuleEvaluator(2).step(bad)
    with pytest.raises(ValueError, match=r"class|dtype"):
        music_theory_rewards(bad)


def test_invalid_shapes_raise() -> None:
    with pytest.raises(ValueError, match="shape"):
        RuleEvaluator(2).step(np.array([14, 14, 14]))
    with pytest.raises(ValueError, match="1-D"):
        music_theory_rewards(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="length"):
        music_theory_rewards(np.ones(33, dtype=int))
    with pytest.raises(ValueError, match="mask"):
        RuleEvaluator(2).reset(np.array([1, 0]))
    with pytest.raises(ValueError, match="num_melodies"):
        RuleEvaluator(0)


def test_registry_weights_removal_and_user_rules() -> None:
    melody = np.array([14, 15, 1, 0])

    def low_octave(melodies: np.ndarray, positions: np.ndarray, key: Key) -> np.ndarray:
        a = melodies[np.arange(len(positions)), positions]
        return np.where((a >= 2) & (a < 26), -1.0, 0.0)

    rules = DEFAULT_RULES.with_weight("key", 2.0).without("autocorrelation").with_rule(Rule("low", low_octave, 0.5))
    out = music_theory_rewards(melody, rules=rules)
    assert rules.names == (*(n for n in RULE_NAMES if n != "autocorrelation"), "low")
    assert out[:, 0].tolist() == [0.0, -2.0, 0.0, 0.0]  # C#4 out of key, weight 2
    assert out[:, -1].tolist() == [-0.5, -0.5, 0.0, 0.0]
    full = music_theory_rewards(melody)
    keep = [RULE_NAMES.index(n) for n in RULE_NAMES if n not in ("key", "autocorrelation")]
    np.testing.assert_array_equal(out[:, 1:-1], full[:, keep])


def test_registry_errors() -> None:
    with pytest.raises(ValueError, match="unique"):
        DEFAULT_RULES.with_rule(Rule("key", lambda m, p, k: np.zeros(len(p))))
    with pytest.raises(KeyError, match="nope"):
        DEFAULT_RULES.without("nope")
    with pytest.raises(TypeError):
        RuleSet([lambda m, p, k: 0])  # type: ignore[list-item]
    bad = RuleSet([Rule("scalar", lambda m, p, k: np.zeros(3))])
    with pytest.raises(ValueError, match="scalar"):
        RuleEvaluator(2, rules=bad).step(np.array([14, 14]))


def test_stateful_user_rule_is_reset_per_row() -> None:
    class CountNotes:
        def __init__(self, n: int) -> None:
            self.count = np.zeros(n)

        def reset(self, mask: np.ndarray) -> None:
            self.count[mask] = 0

        def __call__(self, melodies: np.ndarray, positions: np.ndarray, key: Key) -> np.ndarray:
            self.count += 1
            return self.count.copy()

    ev = RuleEvaluator(2, rules=RuleSet([Rule("count", CountNotes, stateful=True)]))
    ev.step(np.array([14, 14]))
    ev.reset(np.array([False, True]))
    assert ev.step(np.array([14, 14]))[:, 0].tolist() == [2.0, 1.0]
