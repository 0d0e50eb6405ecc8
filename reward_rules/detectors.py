"""Detectors behind the music-theory rules (docs/spec.md §4) and the Table 1 statistics (docs/spec.md §7).

Rules 3–8 run incrementally: a tracker keeps a little state per melody (row) and its ``step``
consumes each row's newest note ``a``, so one step costs a fixed number of numpy operations on
(N,)-sized arrays, whatever the melody length. The same trackers serve the rules
(:mod:`reward_rules.rules`) and the Table 1 statistics (:mod:`reward_rules.stats`, which replays
finished melodies note by note), so each rule has one implementation. A tracker must see every note
of a row in order after ``reset`` of that row; ``positions`` (N,) is the 0-based beat of ``a``.

``autocorrelation`` and ``unique_extremes`` read a batch of melodies ``(N, L)`` at once: row ``i``
holds S (docs/spec.md §4: the melody so far including ``a``) in ``melodies[i, :positions[i] + 1]``; entries
after that are never read. Nothing here loops over rows.

Small lookup tables replace branches. Tables indexed by a previous pitch have one extra last row
for "no previous pitch", stored as -1, which numpy's negative indexing maps to that row.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from reward_rules.tokens import FIRST_PITCH_CLASS, NO_EVENT, NOTE_OFF, NUM_CLASSES

BAR = 8
"""Steps in a motif window (docs/spec.md §4 rules 5–6: "bar = 8 steps")."""
LEAP = 7
"""Smallest leap in semitones, a fifth (docs/spec.md §4 rule 8)."""
STEPS_BETWEEN_LEAPS = 6
"""A leap back resolves a leap only if more than this many steps passed since it (docs/spec.md §4 rule 8)."""
RESOLVED = 1
"""Leap outcome: a pending leap was resolved (docs/spec.md §4 rule 8)."""
DOUBLED = -1
"""Leap outcome: a second leap in the pending leap's direction (docs/spec.md §4 rule 8)."""
LAGS = (1, 2, 3)
"""Lags of the rule-4 autocorrelation (docs/spec.md §4)."""

_TOKEN = np.arange(NUM_CLASSES)
_IS_PITCH = _TOKEN >= FIRST_PITCH_CLASS
PREVIOUS_PITCH_ROWS = np.r_[0:NUM_CLASSES, -1]
"""The previous pitch of each row of a table indexed by previous pitch: the last row is -1, none."""

# The previous pitch once `a` is played: `a` if it is an onset, else unchanged (rows: see module doc).
_PREVIOUS_AFTER = np.where(_IS_PITCH[None, :], _TOKEN[None, :], PREVIOUS_PITCH_ROWS[:, None])


def _rows(positions: np.ndarray) -> np.ndarray:
    return np.arange(positions.shape[0])


def _upto(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The columns any row may read (a view): ``melodies[:, :max(positions) + 1]``."""
    return melodies[:, : int(positions.max(initial=0)) + 1]


def _select(mask: np.ndarray | None) -> slice | np.ndarray:
    return slice(None) if mask is None else mask


def new_notes(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The newest note ``a`` of each row, shape (N,)."""
    return melodies[_rows(positions), positions]


def previous_pitch_after(previous: np.ndarray, a: np.ndarray) -> np.ndarray:
    """docs/spec.md §4 rule 7's previous pitch once ``a`` is played: ``a`` if it is an onset (class >= 2),
    else ``previous`` (-1 = the melody has no onset yet). Start every row at -1.

    :param previous: (N,) previous pitch before ``a``.
    :param a: (N,) the newest notes.
    :return: (N,) int64.
    """
    return _PREVIOUS_AFTER[previous, a]


# ----------------------------------------------------------------------------- rule 3, repetition
_COUNT = 7  # mask of n in a scan state; n saturates at 7, as rule 3 compares it with 6 at most
_MARK = 8  # the "rest between" / "held" mark, the bit above the count


def _repetition_tables() -> tuple[np.ndarray, np.ndarray]:
    """``repeats[state, a]`` (rule 3's verdict for a scan state) and ``next_count[state]`` (one more)."""
    state = np.arange(2 * _MARK)[:, None]
    n, marked = state & _COUNT, state >= _MARK
    repeats = ((_TOKEN == NOTE_OFF) & (n > 1)) | (~marked & (n > 4)) | (marked & (n > 6))
    next_count = np.where(n < _COUNT, state + 1, state)[:, 0].astype(np.int8)
    return repeats, next_count


_REPEATS, _NEXT_COUNT = _repetition_tables()
_KEEPS_SCANNING = (_TOKEN <= NO_EVENT).astype(np.int8)  # a 0 or 1 marks; another token stops a scan


class RepetitionTracker:
    """docs/spec.md §4 rule 3 for N melodies: the backward scan from the newest note, for every candidate.

    For a candidate next note ``b``, scanning backwards: tokens equal to ``b`` count ``n``; a 0 or 1
    other than ``b`` marks ("rest between" / "held"); any other token stops the scan. So playing
    ``a`` changes the scan of each ``b`` as follows: ``b == a``: ``n += 1``; ``b != a`` and ``a`` is 0
    or 1: marked; otherwise stopped (``n = 0``, no mark). The state is that scan for all 38
    candidates, ``scan`` (38, N) int8 with ``min(n, 7)`` in bits 0–2 and the mark in bit 3.
    ``a`` repeats excessively if ``(a == 0 and n > 1) or (no mark and n > 4) or (mark and n > 6)``
    (as in the original, ``a == 1`` counts earlier 1s, so a note held more than 5 steps repeats).

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.scan = np.zeros((NUM_CLASSES, num_melodies), dtype=np.int8)
        self._rows = np.arange(num_melodies)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        self.scan[:, _select(mask)] = 0

    def step(self, a: np.ndarray) -> np.ndarray:
        """Consume each row's newest note ``a`` (N,); return (N,) bool: ``a`` repeats excessively."""
        before = self.scan[a, self._rows]
        repeated = _REPEATS[before, a]
        self.scan |= _MARK
        self.scan *= _KEEPS_SCANNING[a]
        self.scan[a, self._rows] = _NEXT_COUNT[before]
        return repeated


# ------------------------------------------------------------------------ rule 4, autocorrelation
_LAGS_FROM_0 = np.array((0, *LAGS))


def autocorrelation_fraction(
    n: np.ndarray, s1: np.ndarray, prod: np.ndarray, ends: np.ndarray, lags: np.ndarray
) -> np.ndarray:
    """docs/spec.md §4 rule 4's biased autocorrelation as exact fractions of integers.

    ``c = Σ_{i<n-lag} x_i x_{i+lag} / (n · var(S))``, ``x = S - mean(S)``, population variance (as
    ``rl_tuner_ops.autocorrelate``), is ``num(lag) / num(0)`` with
    ``num(lag) = n² P − n s₁ (A + B) + (n − lag)⁺ s₁²``, ``P = Σ_{i<n-lag} S_i S_{i+lag}``,
    ``A = Σ_{i<n-lag} S_i``, ``B = Σ_{i>=lag} S_i`` (at lag 0: ``n (n Σ S² − s₁²)``, n² times the
    variance). ``num(0) >= 0``, and it is 0 only for a constant S (then every ``num`` is 0);
    ``num(lag) == 0`` when ``n <= lag``.

    The arguments broadcast together, e.g. ``n`` (N, 1) and ``prod`` (N, K) with ``lags`` (K,), or
    ``n`` (1, N) and ``prod`` (K, N) with ``lags`` (K, 1).

    :param n: notes in S.
    :param s1: ``s₁ = Σ S``.
    :param prod: ``P`` at each lag.
    :param ends: ``A + B`` at each lag.
    :param lags: the lags.
    :return: int64 ``num`` at each lag.
    """
    num = n * prod
    num -= s1 * ends
    num *= n
    num += np.maximum(n - lags, 0) * (s1 * s1)
    return num


def autocorrelation(melodies: np.ndarray, positions: np.ndarray, lags: tuple[int, ...] = LAGS) -> np.ndarray:
    """docs/spec.md §4 rule 4: autocorrelation of S at each lag (:func:`autocorrelation_fraction`), from a
    batch of melodies, with one division, so the value does not depend on summation order.
    0 when ``n <= lag`` (no pairs), NaN when S is constant. (Unlike the original's floating-point
    estimate, a coefficient of exactly ±0.15, e.g. lag 3 of ``[1, 16, 16, 16, 16]``, is exactly 0.15
    here, so rule 4's ``|c| > 0.15`` does not fire on it.)

    :return: (N, len(lags)) float64.
    """
    m = _upto(melodies, positions)
    width = m.shape[1]
    rows = _rows(positions)[:, None]
    x = np.where(np.arange(width) <= positions[:, None], m, 0)  # int64, zero past the newest note
    cum = x.cumsum(axis=1)
    lag = np.array((0, *lags))
    n = (positions + 1)[:, None]
    s1 = cum[rows, positions[:, None]]
    prod = np.stack([(x[:, : width - k] * x[:, k:]).sum(axis=1) if width > k else x[:, 0] * 0 for k in lag], axis=1)
    before = np.where(n > lag, cum[rows, np.maximum(n - lag - 1, 0)], 0)  # A = Σ_{i<n-lag}
    head = np.where(lag > 0, cum[:, np.clip(lag - 1, 0, width - 1)], 0)  # Σ_{i<lag}
    num = autocorrelation_fraction(n, s1, prod, before + (s1 - head), lag)
    out = np.full((num.shape[0], len(lags)), np.nan)
    np.divide(num[:, 1:], num[:, :1], out=out, where=num[:, :1] != 0)
    return out


class AutocorrelationTracker:
    """docs/spec.md §4 rule 4 for N growing melodies: the integer sums of :func:`autocorrelation_fraction`
    at lags 0 (the variance), 1, 2, 3, each updated by a note in O(1).

    ``sums`` (8, N) holds ``[P(0..3), (A + B)(0..3)]`` (``P(0) = Σ S²``, ``(A + B)(0) = 2 Σ S``).
    ``recent`` (8, N) holds ``[a, S₋₁, S₋₂, S₋₃, 1, b₁, b₂, b₃]``, ``S₋ₖ`` the note k steps before
    ``a`` (0 if none) and ``bₖ = 1`` if there is one (``a``'s index >= k). Playing ``a`` adds
    ``a · recent`` to ``sums`` (``P`` gains ``a S₋ₖ``, ``B`` gains ``a`` at lags ``<=`` its index)
    and ``S₋ₖ`` to ``A``; then ``recent`` ages by one step.

    :param num_melodies: N, the number of rows tracked.
    """

    _START = np.array([0, 0, 0, 0, 1, 0, 0, 0])[:, None]
    _LAGS = _LAGS_FROM_0[:, None]

    def __init__(self, num_melodies: int) -> None:
        self.sums = np.zeros((2 * len(_LAGS_FROM_0), num_melodies), dtype=np.int64)
        self.recent = np.repeat(self._START, num_melodies, axis=1)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        sel = _select(mask)
        self.sums[:, sel] = 0
        self.recent[:, sel] = self._START

    def step(self, a: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Consume the newest notes ``a`` (N,) at beats ``positions`` (N,); return ``num`` (4, N) of
        S at lags 0 (the denominator), 1, 2, 3 (:func:`autocorrelation_fraction`)."""
        recent, sums = self.recent, self.sums
        recent[0] = a
        sums += a * recent
        sums[4:] += recent[:4]
        halves = recent.reshape(2, 4, -1)  # age by one step: S₋ₖ ← S₋ₖ₊₁ (S₀ = a), bₖ ← bₖ₋₁ (b₀ = 1)
        halves[:, 2:] = halves[:, 1:3]
        halves[:, 1] = halves[:, 0]
        return autocorrelation_fraction(positions + 1, sums[4] >> 1, sums[:4], sums[4:], self._LAGS)


# -------------------------------------------------------------------------- rules 5-6, motifs
_UNFILLED = NUM_CLASSES  # a window slot before the melody's first note
# Bits of a token in a motif window: one per onset class, none for 0/1, all 64 for an unfilled slot,
# so a window with an unfilled slot counts 64 "pitches", which _DISTINCT maps to 0.
_WINDOW_BITS = np.r_[np.where(_IS_PITCH, np.left_shift(1, _TOKEN), 0), -1].astype(np.uint64)
_DISTINCT = np.where(np.arange(65) <= BAR, np.arange(65), 0)


class MotifTracker:
    """docs/spec.md §4 rules 5–6 for N melodies: the last 16 tokens of each row.

    After ``step``, ``distinct()`` is ``u``, the distinct onset classes among the last 8 tokens of S
    (octaves distinct, 0/1 not pitches; 0 while S has fewer than 8 tokens, as the original's
    ``detect_last_motif``). Given ``length``, ``step`` also sets ``repeated``: the last 8 tokens (0/1
    included) occur contiguously earlier without overlapping them, i.e. in a window starting at
    ``w <= position - 15`` (the original's ``composition[:-(bar_length - 1)]``). Windows are compared
    as the 8 bytes of an int64; a window joins ``earlier`` when it ends 8 notes before the newest.

    :param num_melodies: N, the number of rows tracked.
    :param length: melody length; ``None`` skips ``repeated``.
    """

    def __init__(self, num_melodies: int, length: int | None = None) -> None:
        self.recent = np.full((2 * BAR, num_melodies), _UNFILLED, dtype=np.int8)  # oldest first
        self.repeated = np.zeros(num_melodies, dtype=bool)
        self.earlier = None  # window codes by start (-1: none yet); the last column is scratch
        if length is not None:
            self.earlier = np.full((num_melodies, max(length - 2 * BAR + 1, 0) + 1), -1)
            self._slot = np.maximum(np.arange(length) - 2 * BAR + 1, -1)  # by beat; -1: scratch
        self._rows = np.arange(num_melodies)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        sel = _select(mask)
        self.recent[:, sel] = _UNFILLED
        if self.earlier is not None:
            self.earlier[sel] = -1

    def step(self, a: np.ndarray, positions: np.ndarray) -> None:
        """Consume the newest notes ``a`` (N,) at beats ``positions`` (N,)."""
        self.recent[:-1] = self.recent[1:]
        self.recent[-1] = a
        if self.earlier is not None:
            codes = self.recent.T.copy().view(np.int64)  # (N, 2): window from positions - 15, the last 8
            self.earlier[self._rows, self._slot[positions]] = codes[:, 0]
            self.repeated = (self.earlier[:, :-1] == codes[:, 1:]).any(axis=1)

    def distinct(self) -> np.ndarray:
        """``u`` (N,) int64 of the last 8 tokens (0 before the 8th note)."""
        bits = np.bitwise_or.reduce(_WINDOW_BITS[self.recent[BAR:]], axis=0)
        return _DISTINCT[np.bitwise_count(bits)]


# ------------------------------------------------------------------------ rule 8, leap resolution
_STEPS_CAP = STEPS_BETWEEN_LEAPS + 1  # steps since a leap only matter as "> 6": saturate at 7
_PENDING = np.arange(-(NUM_CLASSES - 1), NUM_CLASSES)  # +from after a leap up, -from down, 0 none


def _leap_state(pending: np.ndarray, previous: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Index of the leap state (pending, previous pitch or -1, steps <= 7)."""
    row = np.where(previous < 0, NUM_CLASSES, previous)  # as PREVIOUS_PITCH_ROWS
    return ((pending + NUM_CLASSES - 1) * (NUM_CLASSES + 1) + row) * (_STEPS_CAP + 1) + steps


@lru_cache(maxsize=1)
def _leap_automaton() -> tuple[np.ndarray, np.ndarray]:
    """Rule 8 for every state and next note: ``(outcome[state, a], next_state[state, a])``, built at
    the first use (about 0.9 M entries, 2.7 MB)."""
    pending, previous, steps = (
        g.reshape(-1, 1) for g in np.meshgrid(_PENDING, PREVIOUS_PITCH_ROWS, np.arange(_STEPS_CAP + 1), indexing="ij")
    )
    a = _TOKEN
    up = np.sign(a - previous)
    leap = _IS_PITCH[a] & (previous >= FIRST_PITCH_CLASS) & (np.abs(a - previous) >= LEAP)
    direction = np.sign(pending)
    against = leap & (direction == -up)
    again = leap & (direction == up)
    back = ~leap & _IS_PITCH[a] & (((direction == 1) & (a <= pending)) | ((direction == -1) & (a >= -pending)))
    outcome = np.where((against & (steps > STEPS_BETWEEN_LEAPS)) | back, RESOLVED, np.where(again, DOUBLED, 0))
    pending = np.where(against | back, 0, np.where(leap & (direction == 0), up * previous, pending))
    previous = np.where(_IS_PITCH[a], a, previous)
    steps = np.where(leap, 0, np.minimum(steps + 1, _STEPS_CAP))
    return outcome.astype(np.int8), _leap_state(pending, previous, steps).astype(np.int16)


_LEAP_START = int(_leap_state(np.array(0), np.array(-1), np.array(0)))


class LeapTracker:
    """docs/spec.md §4 rule 8 state machine for N melodies: pending leap, pitch leapt from, steps since.

    For a 0/1 token: steps += 1, outcome 0. A leap is a move of ``>= 7`` semitones from the previous
    pitch (:func:`previous_pitch_after`; intervals above an octave included). On a leap: pending in
    the opposite direction → ``RESOLVED`` only if more than 6 steps passed since that leap, and the
    pending leap is cleared either way; pending in the same direction → ``DOUBLED``, pending kept;
    nothing pending → store the direction and the pitch leapt from. Steps reset to 0 on any leap.
    On another note: steps += 1, and if it moved back to or past the pitch leapt from (ascending:
    ``a <= from``, descending: ``a >= from``) → ``RESOLVED``, cleared.

    The machine is tabulated once for every state (pending ±from or 0, previous pitch, steps
    saturated at 7) and note, so a step is two table lookups; ``state`` holds each row's index.

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.state = np.full(num_melodies, _LEAP_START, dtype=np.int16)
        _leap_automaton()  # build the tables now rather than at the first step

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the state of all rows, or of the rows where ``mask`` is True."""
        self.state[_select(mask)] = _LEAP_START

    def step(self, a: np.ndarray) -> np.ndarray:
        """Consume each row's newest note ``a`` (N,); return (N,) int8 outcomes ``RESOLVED``,
        ``DOUBLED`` or 0."""
        outcomes, next_states = _leap_automaton()  # shared, not copied into each tracker
        outcome = outcomes[self.state, a]
        self.state = next_states[self.state, a]
        return outcome


# ----------------------------------------------------------------------- rule 9, unique extremes
def unique_extremes(melodies: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """docs/spec.md §4 rule 9 conditions on S: the highest token occurs once; the lowest pitch occurs once.

    The highest token is taken over all tokens, 0/1 included (as the original: it only matters for a
    melody without pitches); the lowest is over note onsets only (False when there are none).

    :return: ``(highest_unique, lowest_unique)``, two (N,) bool arrays.
    """
    m = _upto(melodies, positions)
    inside = np.arange(m.shape[1]) <= positions[:, None]
    high = np.where(inside, m, -1).max(axis=1)
    high_unique = ((m == high[:, None]) & inside).sum(axis=1) == 1
    pitch = inside & (m >= FIRST_PITCH_CLASS)
    low = np.where(pitch, m, NUM_CLASSES).min(axis=1)
    low_unique = ((m == low[:, None]) & pitch).sum(axis=1) == 1
    return high_unique, low_unique


__all__ = [
    "BAR",
    "DOUBLED",
    "LAGS",
    "LEAP",
    "PREVIOUS_PITCH_ROWS",
    "RESOLVED",
    "STEPS_BETWEEN_LEAPS",
    "AutocorrelationTracker",
    "LeapTracker",
    "MotifTracker",
    "RepetitionTracker",
    "autocorrelation",
    "autocorrelation_fraction",
    "new_notes",
    "previous_pitch_after",
    "unique_extremes",
]
