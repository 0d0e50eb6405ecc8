"""The nine music-theory rules of rMT, in the paper's order (SPEC §4), and ``DEFAULT_RULES``.

Each rule is ``rule(melodies, positions, key) -> (N,)`` float64 as described in
:mod:`reward_rules.registry`; ``a`` is the newest note, ``S`` the melody so far including ``a`` and the
beat is ``positions`` (0-based). The melody length (32 in the paper) is ``melodies.shape[1]``. The
constants are the original's; "C", "G" and "E" of rule 7 generalise to the key's tonic, dominant
and third pitch classes, and rules 1–2 use the key's scale and tonic (class 14 for C major).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from reward_rules import detectors
from reward_rules.registry import Rule, RuleSet
from reward_rules.tokens import C_MAJOR, FIRST_PITCH_CLASS, NO_EVENT, NOTE_OFF, NUM_CLASSES, PITCH_OFFSET, Key

_PITCH_CLASS = (np.arange(NUM_CLASSES) + PITCH_OFFSET) % 12


@lru_cache(maxsize=64)
def _degree_masks(key: Key) -> tuple[np.ndarray, np.ndarray]:
    """Bool masks over classes: onsets on the tonic or dominant; onsets on the tonic or third."""
    onset = np.arange(NUM_CLASSES) >= FIRST_PITCH_CLASS
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


def key_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 1 (SPEC §4), key: −1 if ``a`` is not in the key set (0 and 1 count as in key)."""
    return np.where(key.in_key[detectors.new_notes(melodies, positions)], 0.0, -1.0)


def tonic_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 2 (SPEC §4), tonic: +3 for ``a == tonic`` at beat 0 or beat L−4 (28), for ``a == 1`` at
    beat L−3 (29), for ``a`` in {0, 1} at beats L−2, L−1 (30, 31); L = ``melodies.shape[1]``.
    The tonic is the single class ``key.tonic_class`` (14, C4, for C major), as in the original."""
    a = detectors.new_notes(melodies, positions)
    last_bar = melodies.shape[1] - 4
    tonic = ((positions == 0) | (positions == last_bar)) & (a == key.tonic_class)
    hold = (positions == last_bar + 1) & (a == NO_EVENT)
    end = (positions > last_bar + 1) & (a <= NO_EVENT)
    return np.where(tonic | hold | end, 3.0, 0.0)


def repetition_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 3 (SPEC §4), excessive repetition: −100 when
    :func:`~reward_rules.detectors.excessive_repetition` detects it."""
    return np.where(detectors.excessive_repetition(melodies, positions), -100.0, 0.0)


def autocorrelation_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 4 (SPEC §4), autocorrelation: ``−3·|c|`` for each lag 1, 2, 3 with ``|c| > 0.15``,
    ``c`` of :func:`~reward_rules.detectors.autocorrelation` on the growing S; NaN (constant S) skipped."""
    c = np.abs(detectors.autocorrelation(melodies, positions))
    return np.where(c > 0.15, -3.0 * c, 0.0).sum(axis=1)  # NaN > 0.15 is False


def motif_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 5 (SPEC §4), motif: ``+3 + 0.3·(u − 3)`` if the last 8 tokens of S hold ``u >= 3``
    distinct pitches (:func:`~reward_rules.detectors.motif_pitch_count`; none before 8 tokens)."""
    u = detectors.motif_pitch_count(melodies, positions)
    return np.where(u >= 3, 3.0 + 0.3 * (u - 3), 0.0)


def repeated_motif_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 6 (SPEC §4), repeated motif: ``+4 + (u − 3)`` if rule 5 fires and the same 8 tokens occur
    earlier without overlapping (:func:`~reward_rules.detectors.motif_repeated`)."""
    u = detectors.motif_pitch_count(melodies, positions)
    fires = (u >= 3) & detectors.motif_repeated(melodies, positions)
    return np.where(fires, 4.0 + (u - 3), 0.0)


def interval_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 7 (SPEC §4), preferred intervals (the original's values ×5), from the previous pitch
    (last onset before ``a``; no reward without one). ``a == 1``: +0.375, +1.5 after the tonic or
    dominant; ``a == 0``: +0.25, +0.75 after the tonic or dominant. Otherwise ``d = |a − prev|``:
    0 → 0; 7 from the tonic/dominant → +0.5; 4 from the tonic/third → +0.75; other 4 → +0.45;
    2 → +0.4; 5 → +0.35; 9 → +0.25; other 7 → +0.1; 11 → −1.5; > 12 → −5; 1, 3, 6, 8, 10, 12 → 0.
    (The original hard-codes C/G and C/E; in C major these are the same.)"""
    a = detectors.new_notes(melodies, positions)
    prev = detectors.previous_pitch(melodies, positions)
    has_prev = prev >= 0
    prev = np.maximum(prev, 0)  # class 0 is not an onset: both masks are False there
    tonic_or_fifth, tonic_or_third = _degree_masks(key)
    strong = tonic_or_fifth[prev]
    d = np.abs(a - prev)
    reward = _INTERVAL_REWARD[d]
    reward = np.where((d == 7) & strong, 0.5, reward)
    reward = np.where((d == 4) & tonic_or_third[prev], 0.75, reward)
    reward = np.where(a == NO_EVENT, np.where(strong, 1.5, 0.375), reward)
    reward = np.where(a == NOTE_OFF, np.where(strong, 0.75, 0.25), reward)
    return np.where(has_prev, reward, 0.0)


class LeapResolutionRule:
    """Rule 8 (SPEC §4), leap resolution: +5 when a leap is resolved, −5 for leaping twice the same
    way, from :class:`~reward_rules.detectors.LeapTracker` (stateful: replayed from the start).

    :param num_melodies: N, the number of rows of the evaluator.
    """

    def __init__(self, num_melodies: int) -> None:
        self.tracker = detectors.LeapTracker(num_melodies)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the leap state of all rows, or of the rows where ``mask`` is True."""
        self.tracker.reset(mask)

    def __call__(self, melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
        outcome = self.tracker.step(melodies, positions)
        return 5.0 * (outcome == detectors.RESOLVED) - 5.0 * (outcome == detectors.DOUBLED)


def unique_extremes_rule(melodies: np.ndarray, positions: np.ndarray, key: Key = C_MAJOR) -> np.ndarray:
    """Rule 9 (SPEC §4), unique extremes, at the last note only (beat L−1): +3 if the highest token of
    S occurs once, +3 if its lowest pitch occurs once (:func:`~reward_rules.detectors.unique_extremes`)."""
    last = positions == melodies.shape[1] - 1
    if not last.any():
        return np.zeros(positions.shape[0])
    high, low = detectors.unique_extremes(melodies, positions)
    return np.where(last, 3.0 * high + 3.0 * low, 0.0)


DEFAULT_RULES = RuleSet(
    (
        Rule("key", key_rule),
        Rule("tonic", tonic_rule),
        Rule("repetition", repetition_rule),
        Rule("autocorrelation", autocorrelation_rule),
        Rule("motif", motif_rule),
        Rule("repeated_motif", repeated_motif_rule),
        Rule("intervals", interval_rule),
        Rule("leap_resolution", LeapResolutionRule, stateful=True),
        Rule("unique_extremes", unique_extremes_rule),
    )
)
"""The nine rules of SPEC §4 with weight 1, so rMT is the row sum of the per-rule rewards."""

RULE_NAMES = DEFAULT_RULES.names
"""The nine rule names in SPEC §4 order."""

__all__ = [
    "DEFAULT_RULES",
    "RULE_NAMES",
    "LeapResolutionRule",
    "autocorrelation_rule",
    "interval_rule",
    "key_rule",
    "motif_rule",
    "repeated_motif_rule",
    "repetition_rule",
    "tonic_rule",
    "unique_extremes_rule",
]
