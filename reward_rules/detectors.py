"""Detectors behind the music-theory rules (SPEC §4) and the Table 1 statistics (SPEC §7).

Rules 3–8 run incrementally: a tracker keeps a little state per melody (row) and its ``step``
consumes each row's newest note ``a``, so one step costs a fixed number of numpy operations on
(N,)-sized arrays, whatever the melody length. The same trackers serve the rules
(:mod:`reward_rules.rules`) and the Table 1 statistics (:mod:`reward_rules.stats`, which replays
finished melodies note by note), so each rule has one implementation. A tracker must see every note
of a row in order after ``reset`` of that row; ``positions`` (N,) is the 0-based beat of ``a``.

``autocorrelation`` and ``unique_extremes`` read a batch of melodies ``(N, L)`` at once: row ``i``
holds S (SPEC §4: the melody so far including ``a``) in ``melodies[i, :positions[i] + 1]``; entries
after that are never read. Nothing here loops over rows.

Small lookup tables replace branches. Tables indexed by a previous pitch have one extra last row
for "no previous pitch", stored as -1, which numpy's negative indexing maps to that row.
"""

from __future__ import annotations

import numpy as np

from reward_rules.tokens import FIRST_PITCH_CLASS, NO_EVENT, NOTE_OFF, NUM_CLASSES

BAR = 8
"""Steps in a motif window (SPEC §4 rules 5–6: "bar = 8 steps")."""
LEAP = 7
"""Smallest leap in semitones, a fifth (SPEC §4 rule 8)."""
STEPS_BETWEEN_LEAPS = 6
"""A leap back resolves a leap only if more than this many steps passed since it (SPEC §4 rule 8)."""
RESOLVED = 1
"""Leap outcome: a pending leap was resolved (SPEC §4 rule 8)."""
DOUBLED = -1
"""Leap outcome: a second leap in the pending leap's direction (SPEC §4 rule 8)."""
LAGS = (1, 2, 3)
"""Lags of the rule-4 autocorrelation (SPEC §4)."""

_TOKEN = np.arange(NUM_CLASSES)
_IS_PITCH = _TOKEN >= FIRST_PITCH_CLASS
PREVIOUS_PITCH_ROWS = np.r_[0:NUM_CLASSES, -1]
"""The previous pitch of each row of a table indexed by previous pitch: the last row is -1, none."""
_PITCH_BIT = np.where(_IS_PITCH, np.left_shift(1, _TOKEN), 0)  # one bit per onset class (38 < 63 bits)

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
    """SPEC §4 rule 7's previous pitch once ``a`` is played: ``a`` if it is an onset (class >= 2),
    else ``previous`` (-1 = the melody has no onset yet). Start every row at -1.

    :param previous: (N,) previous pitch before ``a``.
    :param a: (N,) the newest notes.
    :return: (N,) int64.
    """
    return _PREVIOUS_AFTER[previous, a]


# ----------------------------------------------------------------------------- rule 3, repetition
_COUNT_BITS = 7  # n saturates at 7: rule 3 compares it with 6 at most
_MARK = 8  # the "rest between" / "held" mark, the bit above the count


def _repetition_tables() -> tuple[np.ndarray, np.ndarray]:
    """``repeats[state, a]`` (rule 3's verdict for a scan state) and ``next_count[state]`` (one more)."""
    state = np.arange(2 * _MARK)[:, None]
    n, marked = state & _COUNT_BITS, state >= _MARK
    repeats = ((_TOKEN == NOTE_OFF) & (n > 1)) | (~marked & (n > 4)) | (marked & (n > 6))
    next_count = np.where(n < _COUNT_BITS, state + 1, state)[:, 0].astype(np.int8)
    return repeats, next_count


_REPEATS, _NEXT_COUNT = _repetition_tables()
_KEEPS_SCANNING = (_TOKEN <= NO_EVENT).astype(np.int8)  # a 0 or 1 marks; another token stops a scan


class RepetitionTracker:
    """SPEC §4 rule 3 for N melodies: the backward scan from the newest note, for every candidate.

    For a candidate next note ``b``, scanning backwards: tokens equal to ``b`` count ``n``; a 0 or 1
    other than ``b`` marks ("rest between" / "held"); any other token stops the scan. So playing
    ``a`` changes the scan of each ``b`` as follows: ``b == a``: ``n += 1``; ``b != a`` and ``a`` is 0
    or 1: marked; otherwise stopped (``n = 0``, no mark). The state is that scan for all 38
    candidates, ``(N, 38)`` int8 with ``min(n, 7)`` in bits 0–2 and the mark in bit 3.
    ``a`` repeats excessively if ``(a == 0 and n > 1) or (no mark and n > 4) or (mark and n > 6)``
    (as in the original, ``a == 1`` counts earlier 1s, so a note held more than 5 steps repeats).

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.scan = np.zeros((num_melodies, NUM_CLASSES), dtype=np.int8)
        self._rows = np.arange(num_melodies)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        self.scan[_select(mask)] = 0

    def step(self, a: np.ndarray) -> np.ndarray:
        """Consume each row's newest note ``a`` (N,); return (N,) bool: ``a`` repeats excessively."""
        before = self.scan[self._rows, a]
        repeated = _REPEATS[before, a]
        self.scan |= _MARK
        self.scan *= _KEEPS_SCANNING[a][:, None]
        self.scan[self._rows, a] = _NEXT_COUNT[before]
        return repeated


# ------------------------------------------------------------------------ rule 4, autocorrelation
def autocorrelation_fraction(
    n: np.ndarray, s1: np.ndarray, s2: np.ndarray, prod: np.ndarray, ends: np.ndarray, lags: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """SPEC §4 rule 4's biased autocorrelation as an exact fraction ``c = num / den`` of integers.

    ``c = Σ_{i<n-lag} x_i x_{i+lag} / (n · var(S))``, ``x = S - mean(S)``, population variance (as
    ``rl_tuner_ops.autocorrelate``), is ``(n² P − n s₁ (A + B) + (n − lag)⁺ s₁²) / (n (n s₂ − s₁²))``.
    ``den >= 0``; ``den == 0`` only for a constant S (then ``num == 0``); ``num == 0`` when ``n <= lag``.

    :param n: (N, 1) notes in S.
    :param s1: (N, 1) ``Σ S``.
    :param s2: (N, 1) ``Σ S²``.
    :param prod: (N, K) ``P = Σ_{i<n-lag} S_i S_{i+lag}``.
    :param ends: (N, K) ``A + B`` with ``A = Σ_{i<n-lag} S_i`` and ``B = Σ_{i>=lag} S_i``.
    :param lags: (K,) the lags.
    :return: ``(num, den)``, int64 of shapes (N, K) and (N, 1).
    """
    pairs = np.maximum(n - lags, 0)
    num = n * n * prod - n * s1 * ends + pairs * (s1 * s1)
    return num, n * (n * s2 - s1 * s1)


def autocorrelation(melodies: np.ndarray, positions: np.ndarray, lags: tuple[int, ...] = LAGS) -> np.ndarray:
    """SPEC §4 rule 4: autocorrelation of S at each lag (:func:`autocorrelation_fraction`), from the
    batch of melodies, with one division, so the value does not depend on summation order.
    0 when ``n <= lag`` (no pairs), NaN when S is constant. (Unlike the original's floating-point
    estimate, a coefficient of exactly ±0.15, e.g. lag 3 of ``[1, 16, 16, 16, 16]``, is exactly 0.15
    here, so rule 4's ``|c| > 0.15`` does not fire on it.)

    :return: (N, len(lags)) float64.
    """
    m = _upto(melodies, positions)
    rows = _rows(positions)[:, None]
    x = np.where(np.arange(m.shape[1]) <= positions[:, None], m, 0)  # int64, zero past the newest note
    cum = x.cumsum(axis=1)
    lag = np.asarray(lags)
    n = (positions + 1)[:, None]
    s1 = cum[rows, positions[:, None]]
    s2 = (x * x).sum(axis=1, keepdims=True)
    prod = np.stack([(x[:, :-k] * x[:, k:]).sum(axis=1) if m.shape[1] > k else x[:, 0] * 0 for k in lags], axis=1)
    head = cum[:, np.minimum(lag, m.shape[1]) - 1]  # Σ_{i<lag}
    pairs = np.maximum(n - lag, 0)
    before = np.where(pairs > 0, cum[rows, np.maximum(pairs - 1, 0)], 0)  # A = Σ_{i<n-lag}
    num, den = autocorrelation_fraction(n, s1, s2, prod, before + (s1 - head), lag)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


class AutocorrelationTracker:
    """SPEC §4 rule 4 for N growing melodies: the integer sums of :func:`autocorrelation_fraction`
    at lags 1, 2, 3, updated by each note in O(1).

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.recent = np.zeros((num_melodies, len(LAGS)), dtype=np.int64)  # column k-1: the note k steps back
        self.prod = np.zeros((num_melodies, len(LAGS)), dtype=np.int64)  # P
        self.ends = np.zeros((num_melodies, len(LAGS)), dtype=np.int64)  # A + B
        self.s1 = np.zeros(num_melodies, dtype=np.int64)
        self.s2 = np.zeros(num_melodies, dtype=np.int64)
        self._lags = np.array(LAGS)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        sel = _select(mask)
        for array in (self.recent, self.prod, self.ends, self.s1, self.s2):
            array[sel] = 0

    def step(self, a: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Consume the newest notes ``a`` (N,) at beats ``positions`` (N,); return the fraction
        ``(num (N, 3), den (N, 1))`` of the coefficients of S (:func:`autocorrelation_fraction`)."""
        col = a[:, None]
        self.prod += col * self.recent  # a pairs with the note k steps back
        self.ends += self.recent + col * (positions[:, None] >= self._lags)  # A gains that note, B gains a
        self.recent[:, 1:] = self.recent[:, :-1]
        self.recent[:, 0] = a
        self.s1 += a
        self.s2 += a * a
        return autocorrelation_fraction(
            (positions + 1)[:, None], self.s1[:, None], self.s2[:, None], self.prod, self.ends, self._lags
        )


# -------------------------------------------------------------------------- rules 5-6, motifs
class MotifTracker:
    """SPEC §4 rules 5–6 for N melodies: the last 16 tokens of each row.

    ``step`` returns ``u``, the distinct onset classes among the last 8 tokens of S (octaves
    distinct, 0/1 not pitches; 0 while S has fewer than 8 tokens, as the original's
    ``detect_last_motif``). Given ``length``, it also sets ``repeated``: the last 8 tokens (0/1
    included) occur contiguously earlier without overlapping them, i.e. in a window starting at
    ``w <= position - 15`` (the original's ``composition[:-(bar_length - 1)]``). Windows are compared
    as the 8 bytes of an int64; a window becomes comparable once it ends 8 notes before the newest.

    :param num_melodies: N, the number of rows tracked.
    :param length: melody length; ``None`` skips ``repeated``.
    """

    def __init__(self, num_melodies: int, length: int | None = None) -> None:
        self.recent = np.zeros((num_melodies, 2 * BAR), dtype=np.int8)  # oldest first
        # Codes of the windows a later window may repeat, by start (-1: none yet); last column: scratch.
        self.earlier = None if length is None else np.full((num_melodies, max(length - 2 * BAR + 1, 0) + 1), -1)
        self.repeated = np.zeros(num_melodies, dtype=bool)
        self._rows = np.arange(num_melodies)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the melody of all rows, or of the rows where ``mask`` is True."""
        sel = _select(mask)
        self.recent[sel] = 0
        if self.earlier is not None:
            self.earlier[sel] = -1

    def step(self, a: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Consume the newest notes ``a`` (N,) at beats ``positions`` (N,); return ``u`` (N,) uint8."""
        self.recent[:, :-1] = self.recent[:, 1:]
        self.recent[:, -1] = a
        bits = np.bitwise_or.reduce(_PITCH_BIT[self.recent[:, BAR:]], axis=1)
        if self.earlier is not None:
            codes = self.recent.view(np.int64)  # (N, 2): the window starting at positions - 15, the last 8
            self.earlier[self._rows, np.maximum(positions - 2 * BAR + 1, -1)] = codes[:, 0]
            self.repeated = (self.earlier[:, :-1] == codes[:, 1:]).any(axis=1)
        return np.bitwise_count(bits) * (positions >= BAR - 1)


# ------------------------------------------------------------------------ rule 8, leap resolution
def _leap_tables() -> tuple[np.ndarray, np.ndarray]:
    """``move[previous, a]``: +1 leap up, -1 leap down, 0 no leap (rows: see module doc);
    ``returns[pending, a]``: ``a`` is an onset back to or past the pitch leapt from, with
    ``pending = ±from`` (+ after a leap up) and negative rows wrapping to the end."""
    diff = _TOKEN[None, :] - PREVIOUS_PITCH_ROWS[:, None]
    leap = _IS_PITCH[None, :] & (PREVIOUS_PITCH_ROWS[:, None] >= FIRST_PITCH_CLASS) & (np.abs(diff) >= LEAP)
    pending = np.r_[0:NUM_CLASSES, -NUM_CLASSES:0][:, None]
    back = ((pending > 0) & (_TOKEN <= pending)) | ((pending < 0) & (_TOKEN >= -pending))
    return np.where(leap, np.sign(diff), 0), back & _IS_PITCH


_LEAP_MOVE, _RETURNS = _leap_tables()


class LeapTracker:
    """SPEC §4 rule 8 state machine for N melodies: pending leap, pitch leapt from, steps since.

    The state is the previous pitch (as :func:`previous_pitch_after`), ``pending`` = +from after an
    unresolved leap up from pitch ``from``, -from after one down, 0 for none, and the steps since the
    last leap. For a 0/1 token: steps += 1, outcome 0. A leap is a move of ``>= 7`` semitones from the
    previous pitch (intervals above an octave included). On a leap: pending in the opposite direction
    → ``RESOLVED`` only if more than 6 steps passed since that leap, and the pending leap is cleared
    either way; pending in the same direction → ``DOUBLED``, pending kept; nothing pending → store the
    direction and the pitch leapt from. Steps reset to 0 on any leap. On another note: steps += 1, and
    if it moved back to or past the pitch leapt from (ascending: ``a <= from``, descending:
    ``a >= from``) → ``RESOLVED``, cleared.

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.pending = np.zeros(num_melodies, dtype=np.int64)
        self.steps = np.zeros(num_melodies, dtype=np.int64)
        self.last_pitch = np.full(num_melodies, -1, dtype=np.int64)

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the state of all rows, or of the rows where ``mask`` is True."""
        sel = _select(mask)
        self.pending[sel] = 0
        self.steps[sel] = 0
        self.last_pitch[sel] = -1

    def step(self, a: np.ndarray) -> np.ndarray:
        """Consume each row's newest note ``a`` (N,); return (N,) int8 outcomes ``RESOLVED``,
        ``DOUBLED`` or 0."""
        prev, pending = self.last_pitch, self.pending
        move = _LEAP_MOVE[prev, a]
        direction = np.sign(pending)
        turn = move * direction  # -1: a leap against the pending one, +1: the same way again
        calm = move == 0
        back = _RETURNS[pending, a] & calm
        against = turn < 0
        resolved = (against & (self.steps > STEPS_BETWEEN_LEAPS)) | back
        self.pending = np.where(against | back, 0, np.where(direction == 0, move * prev, pending))
        self.steps = (self.steps + 1) * calm
        self.last_pitch = _PREVIOUS_AFTER[prev, a]
        return resolved.view(np.int8) - (turn > 0).view(np.int8)


# ----------------------------------------------------------------------- rule 9, unique extremes
def unique_extremes(melodies: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SPEC §4 rule 9 conditions on S: the highest token occurs once; the lowest pitch occurs once.

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
    "RESOLVED",
    "STEPS_BETWEEN_LEAPS",
    "AutocorrelationTracker",
    "PREVIOUS_PITCH_ROWS",
    "LeapTracker",
    "MotifTracker",
    "RepetitionTracker",
    "autocorrelation",
    "autocorrelation_fraction",
    "new_notes",
    "previous_pitch_after",
    "unique_extremes",
]
