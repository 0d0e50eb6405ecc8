"""The nine music-theory rules of rMT, in the paper's order (docs/spec.md §4), and ``DEFAULT_RULES``.

Each rule is ``rule(melodies, positions, key) -> (N,)`` float64 as described in
:mod:`reward_rules.registry`; ``a`` is the newest note, ``S`` the melody so far including ``a`` and the
beat is ``positions`` (0-based). The melody length (32 in the paper) is ``melodies.shape[1]``. The
constants are the original's; "C", "G" and "E" of rule 7 generalise to the key's tonic, dominant
and third pitch classes, and rules 1–2 use the key's scale and tonic (class 14 for C major).

Rules 3–8 are stateful (they keep a detector tracker per evaluator, see
:mod:`reward_rules.detectors`), so a step costs the same at every beat. Rules 1, 2 and 7 read
tables of their reward for every (beat or previous pitch, ``a``), computed once per key and length
from the rule's formula. Rules 1–8 are :class:`NoteRule` objects, which can also be given ``a``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from reward_rules import detectors
from reward_rules.registry import Rule, RuleSet
from reward_rules.tokens import C_MAJOR, FIRST_PITCH_CLASS, NO_EVENT, NOTE_OFF, NUM_CLASSES, PITCH_OFFSET, Key

_TOKEN = np.arange(NUM_CLASSES)
_PITCH_CLASS = (_TOKEN + PITCH_OFFSET) % 12
_U = np.arange(detectors.BAR + 1)  # distinct pitches in a motif window, 0..8
_MOTIF_BONUS = np.where(_U >= 3, 3.0 + 0.3 * (_U - 3), 0.0)  # rule 5 by u
_REPEAT_BONUS = np.where(_U >= 3, 4.0 + (_U - 3), 0.0)  # rule 6 by u


def _degree_masks(key: Key) -> tuple[np.ndarray, np.ndarray]:
    """Bool masks over classes: onsets on the tonic or dominant; onsets on the tonic or third."""
    onset = _TOKEN >= FIRST_PITCH_CLASS
    tonic_or_fifth = onset & np.isin(_PITCH_CLASS, (key.tonic, key.dominant_pc))
    tonic_or_third = onset & np.isin(_PITCH_CLASS, (key.tonic, key.third_pc))
    return tonic_or_fifth, tonic_or_third


def _interval_table() -> np.ndarray:
    """Rule 7 reward (×5 applied) of an interval of d semitones between onsets, d = 0..35."""
    table = np.zeros(NUM_CLASSES, dtype=np.float64)
    table[[2, 4, 5, 7, 9, 11]] = [0.4, 0.45, 0.35, 0.1, 0.25, -1.5]
    table[13:] = -5.0
    return table


_INTERVAL_REWARD = _interval_table()


def _frozen(table: np.ndarray) -> np.ndarray:
    table.flags.writeable = False
    return table


class NoteRule:
    """Base of the built-in rules: ``rewards(a, positions, melodies, key)`` from the newest notes ``a``
    (N,); calling the rule (the registry's protocol) gathers ``a`` from ``melodies`` first, while
    :class:`~reward_rules.evaluator.RuleEvaluator` passes the notes it already has. A stateful rule keeps
    a detector tracker, ``self.tracker``, which ``reset`` forwards to."""

    tracker: Any = None

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        """(N,) float64 rewards of the newest notes ``a`` played at beats ``positions``."""
        raise NotImplementedError

    def __call__(self, melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
        return self.rewards(detectors.new_notes(melodies, positions), positions, melodies, key)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        if self.tracker is not None:
            self.tracker.reset(mask)


@lru_cache(maxsize=64)
def _key_rewards(key: Key) -> np.ndarray:
    return _frozen(np.where(key.in_key, 0.0, -1.0))


class KeyRule(NoteRule):
    """Rule 1 (docs/spec.md §4), key: −1 if ``a`` is not in the key set (0 and 1 count as in key)."""

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        return _key_rewards(key)[a]


@lru_cache(maxsize=64)
def _tonic_rewards(key: Key, length: int) -> np.ndarray:
    """Rule 2's reward of every (beat, a), shape (length, 38)."""
    beat, a = np.arange(length)[:, None], _TOKEN
    last_bar = length - 4
    tonic = ((beat == 0) | (beat == last_bar)) & (a == key.tonic_class)
    hold = (beat == last_bar + 1) & (a == NO_EVENT)
    end = (beat > last_bar + 1) & (a <= NO_EVENT)
    return _frozen(np.where(tonic | hold | end, 3.0, 0.0))


class TonicRule(NoteRule):
    """Rule 2 (docs/spec.md §4), tonic: +3 for ``a == tonic`` at beat 0 or beat L−4 (28), for ``a == 1`` at
    beat L−3 (29), for ``a`` in {0, 1} at beats L−2, L−1 (30, 31); L = ``melodies.shape[1]``.
    The tonic is the single class ``key.tonic_class`` (14, C4, for C major), as in the original."""

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        return _tonic_rewards(key, melodies.shape[1])[positions, a]


_REPETITION_PENALTY = np.array([0.0, -100.0])


class RepetitionRule(NoteRule):
    """Rule 3 (docs/spec.md §4), excessive repetition: −100 when
    :class:`~reward_rules.detectors.RepetitionTracker` detects it.

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.tracker = detectors.RepetitionTracker(num_melodies)

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        return _REPETITION_PENALTY[self.tracker.step(a).view(np.uint8)]


_THRESHOLD = np.array([3, 20, 20, 20])[:, None]  # |c| > 0.15 ⇔ 20·|num| > 3·den, den in row 0


class AutocorrelationRule(NoteRule):
    """Rule 4 (docs/spec.md §4), autocorrelation: ``−3·|c|`` for each lag 1, 2, 3 with ``|c| > 0.15``, ``c`` of
    the growing S (:class:`~reward_rules.detectors.AutocorrelationTracker`). The test is exact in
    integers, ``20·|num| > 3·den``, so a coefficient of exactly 0.15 is not penalised; a constant S
    (``den == 0``, its coefficient undefined) scores 0.

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.tracker = detectors.AutocorrelationTracker(num_melodies)

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        size = np.abs(self.tracker.step(a, positions))  # (4, N): den, then |num| at lags 1-3
        scaled = size * _THRESHOLD
        c = size[1:] / np.maximum(size[0], 1)
        return np.where(scaled[1:] > scaled[0], c * -3.0, 0.0).sum(axis=0)


class MotifRule(NoteRule):
    """Rule 5 (docs/spec.md §4), motif: ``+3 + 0.3·(u − 3)`` if the last 8 tokens of S hold ``u >= 3``
    distinct pitches (:class:`~reward_rules.detectors.MotifTracker`; none before 8 tokens).

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.tracker = detectors.MotifTracker(num_melodies)

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        self.tracker.step(a, positions)
        return _MOTIF_BONUS[self.tracker.distinct()]


class RepeatedMotifRule(NoteRule):
    """Rule 6 (docs/spec.md §4), repeated motif: ``+4 + (u − 3)`` if rule 5 fires and the same 8 tokens occur
    earlier without overlapping (:class:`~reward_rules.detectors.MotifTracker` ``.repeated``).

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.num_melodies = num_melodies  # the tracker is built at the first call, which tells the length

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        if self.tracker is None:
            self.tracker = detectors.MotifTracker(self.num_melodies, melodies.shape[1])
        self.tracker.step(a, positions)
        if not self.tracker.repeated.any():
            return np.zeros(a.shape[0])
        return np.where(self.tracker.repeated, _REPEAT_BONUS[self.tracker.distinct()], 0.0)


def interval_reward(previous: np.ndarray, a: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 7 (docs/spec.md §4), preferred intervals (the original's values ×5), from the previous pitch
    (last onset before ``a``, -1 for none: no reward). ``a == 1``: +0.375, +1.5 after the tonic or
    dominant; ``a == 0``: +0.25, +0.75 after the tonic or dominant. Otherwise ``d = |a − prev|``:
    0 → 0; 7 from the tonic/dominant → +0.5; 4 from the tonic/third → +0.75; other 4 → +0.45;
    2 → +0.4; 5 → +0.35; 9 → +0.25; other 7 → +0.1; 11 → −1.5; > 12 → −5; 1, 3, 6, 8, 10, 12 → 0.
    (The original hard-codes C/G and C/E; in C major these are the same.)

    :param previous: previous pitch classes (-1 = none), broadcastable with ``a``.
    :param a: newest notes.
    :return: float64 rewards of the broadcast shape.
    """
    prev = np.maximum(previous, 0)  # class 0 is not an onset: both masks are False there
    tonic_or_fifth, tonic_or_third = _degree_masks(key)
    strong = tonic_or_fifth[prev]
    d = np.abs(a - prev)
    reward = _INTERVAL_REWARD[d]
    reward = np.where((d == 7) & strong, 0.5, reward)
    reward = np.where((d == 4) & tonic_or_third[prev], 0.75, reward)
    reward = np.where(a == NO_EVENT, np.where(strong, 1.5, 0.375), reward)
    reward = np.where(a == NOTE_OFF, np.where(strong, 0.75, 0.25), reward)
    return np.where(previous >= 0, reward, 0.0)


@lru_cache(maxsize=64)
def _interval_rewards(key: Key) -> np.ndarray:
    """Rule 7's reward of every (previous pitch, a), rows as ``detectors.PREVIOUS_PITCH_ROWS``."""
    return _frozen(interval_reward(detectors.PREVIOUS_PITCH_ROWS[:, None], _TOKEN[None, :], key))


class IntervalRule(NoteRule):
    """Rule 7 (docs/spec.md §4) for N melodies: :func:`interval_reward` of ``a`` after the previous pitch,
    which it keeps (:func:`~reward_rules.detectors.previous_pitch_after`).

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.previous = np.full(num_melodies, -1, dtype=np.int64)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the previous pitch of all rows, or of the rows where ``mask`` is True."""
        self.previous[slice(None) if mask is None else mask] = -1

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        reward = _interval_rewards(key)[self.previous, a]
        self.previous = detectors.previous_pitch_after(self.previous, a)
        return reward


class LeapResolutionRule(NoteRule):
    """Rule 8 (docs/spec.md §4), leap resolution: +5 when a leap is resolved, −5 for leaping twice the same
    way, from :class:`~reward_rules.detectors.LeapTracker`.

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.tracker = detectors.LeapTracker(num_melodies)

    def rewards(self, a: np.ndarray, positions: np.ndarray, melodies: np.ndarray, key: Key) -> np.ndarray:
        return self.tracker.step(a) * 5.0  # RESOLVED = 1, DOUBLED = -1


def unique_extremes_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 9 (docs/spec.md §4), unique extremes, at the last note only (beat L−1): +3 if the highest token of
    S occurs once, +3 if its lowest pitch occurs once (:func:`~reward_rules.detectors.unique_extremes`)."""
    last = positions == melodies.shape[1] - 1
    if not last.any():
        return np.zeros(positions.shape[0])
    high, low = detectors.unique_extremes(melodies, positions)
    return np.where(last, 3.0 * high + 3.0 * low, 0.0)


DEFAULT_RULES = RuleSet(
    (
        Rule("key", KeyRule()),
        Rule("tonic", TonicRule()),
        Rule("repetition", RepetitionRule, stateful=True),
        Rule("autocorrelation", AutocorrelationRule, stateful=True),
        Rule("motif", MotifRule, stateful=True),
        Rule("repeated_motif", RepeatedMotifRule, stateful=True),
        Rule("intervals", IntervalRule, stateful=True),
        Rule("leap_resolution", LeapResolutionRule, stateful=True),
        Rule("unique_extremes", unique_extremes_rule),
    )
)
"""The nine rules of docs/spec.md §4 with weight 1, so rMT is the row sum of the per-rule rewards."""

RULE_NAMES = DEFAULT_RULES.names
"""The nine rule names in docs/spec.md §4 order."""

BUILTIN_RULE_FNS = frozenset(rule.fn for rule in DEFAULT_RULES)
"""The rules and rule factories of ``DEFAULT_RULES``; they return (N,) float64, so the evaluator
trusts them (no output check)."""

__all__ = [
    "BUILTIN_RULE_FNS",
    "DEFAULT_RULES",
    "RULE_NAMES",
    "AutocorrelationRule",
    "IntervalRule",
    "KeyRule",
    "LeapResolutionRule",
    "MotifRule",
    "NoteRule",
    "RepeatedMotifRule",
    "RepetitionRule",
    "TonicRule",
    "interval_reward",
    "unique_extremes_rule",
]
