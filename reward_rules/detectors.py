"""Vectorised detectors behind the music-theory rules (SPEC §4) and the Table 1 statistics (SPEC §7).

Every detector reads a batch of melodies of shape ``(N, L)`` and ``positions`` of shape ``(N,)``:
row ``i`` holds the melody so far in ``melodies[i, :positions[i] + 1]``, its newest note ``a`` at
``positions[i]`` (S in SPEC §4 = that prefix). Entries after ``positions[i]`` are never read, so the
same code scores the evaluator's growing buffer and a batch of finished melodies replayed note by
note. Nothing here loops over rows; loops run over at most the 8 steps of a motif window.
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

_CODE_BITS = 6  # classes < 64, so one 8-token window packs into 48 bits of an int64
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _rows(positions: np.ndarray) -> np.ndarray:
    return np.arange(positions.shape[0])


def _upto(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The columns any row may read (a view): ``melodies[:, :max(positions) + 1]``."""
    return melodies[:, : int(positions.max(initial=0)) + 1]


def new_notes(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The newest note ``a`` of each row, shape (N,)."""
    return melodies[_rows(positions), positions]


def previous_pitch(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Last note onset (class >= 2) before the newest note, or -1 where there is none (SPEC §4 rule 7).

    :param melodies: (N, L) classes; only ``[:positions + 1]`` of each row is read.
    :param positions: (N,) index of each row's newest note.
    :return: (N,) int64 class of the previous pitch, -1 if the melody so far has none.
    """
    m = _upto(melodies, positions)
    idx = np.arange(m.shape[1])
    onset = (m >= FIRST_PITCH_CLASS) & (idx < positions[:, None])
    last = np.where(onset, idx, -1).max(axis=1)
    return np.where(last >= 0, m[_rows(positions), np.maximum(last, 0)], -1)


def excessive_repetition(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """SPEC §4 rule 3: is the newest note ``a`` an excessive repetition?

    Scan backwards from the note before ``a``: tokens equal to ``a`` count ``n``; a 0 seen when
    ``a != 0`` marks "rest between", a 1 seen when ``a != 1`` marks "held"; any other token stops the
    scan. Repeating if ``(a == 0 and n > 1) or (no mark and n > 4) or (a mark and n > 6)``.
    As in the original, ``a == 1`` counts earlier 1s, so a note held for more than 5 steps repeats.

    :return: (N,) bool.
    """
    m = _upto(melodies, positions)
    a = new_notes(melodies, positions)[:, None]
    before = np.arange(m.shape[1]) < positions[:, None]
    same = m == a
    mark = (m <= NO_EVENT) & ~same  # a 0 or 1 that is not a
    stop = np.where(before & ~same & ~mark, np.arange(m.shape[1]), -1).max(axis=1)  # last other token
    run = before & (np.arange(m.shape[1]) > stop[:, None])
    n = (run & same).sum(axis=1)
    marked = (run & mark).any(axis=1)
    return ((a[:, 0] == NOTE_OFF) & (n > 1)) | (~marked & (n > 4)) | (marked & (n > 6))


def autocorrelation(melodies: np.ndarray, positions: np.ndarray, lags: tuple[int, ...] = (1, 2, 3)) -> np.ndarray:
    """SPEC §4 rule 4: biased autocorrelation of S (raw class numbers) at each lag.

    ``c = Σ_{i<n-lag} x_i x_{i+lag} / (n · var(S))``, ``x = S - mean(S)``, population variance, as
    ``rl_tuner_ops.autocorrelate``. Computed exactly in integers as
    ``(n² P − n s₁ (A + B) + (n − lag)⁺ s₁²) / (n (n s₂ − s₁²))`` with ``s₁ = Σ S``, ``s₂ = Σ S²``,
    ``P = Σ S_i S_{i+lag}``, ``A = Σ_{i<n-lag} S_i``, ``B = Σ_{i>=lag} S_i``, then one division, so the
    value does not depend on summation order. 0 when ``n <= lag`` (no pairs), NaN when S is constant.
    (Unlike the original's floating-point estimate, a coefficient of exactly ±0.15, e.g. lag 3 of
    ``[1, 16, 16, 16, 16]``, is exactly 0.15 here, so rule 4's ``|c| > 0.15`` does not fire on it.)

    :return: (N, len(lags)) float64.
    """
    m = _upto(melodies, positions)
    rows = _rows(positions)[:, None]
    x = np.where(np.arange(m.shape[1]) <= positions[:, None], m, 0)  # int64, zero past the newest note
    cum = x.cumsum(axis=1)
    lag = np.asarray(lags)[None, :]  # (1, K)
    n = (positions + 1)[:, None]  # (N, 1)
    s1 = cum[rows, positions[:, None]]
    s2 = (x * x).sum(axis=1, keepdims=True)
    prod = np.stack([(x[:, :-k] * x[:, k:]).sum(axis=1) if m.shape[1] > k else x[:, 0] * 0 for k in lags], axis=1)
    head = cum[:, np.minimum(lag[0], m.shape[1]) - 1]  # Σ_{i<lag}
    pairs = np.maximum(n - lag, 0)
    tail = s1 - np.where(pairs > 0, cum[rows, np.maximum(pairs - 1, 0)], 0)  # Σ_{i>=n-lag}
    num = n * n * prod - n * s1 * ((s1 - tail) + (s1 - head)) + pairs * s1 * s1
    denom = np.broadcast_to(n * (n * s2 - s1 * s1), num.shape)
    out = np.full(num.shape, np.nan)
    np.divide(num, denom, out=out, where=denom != 0)
    return out


def motif_pitch_count(melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """SPEC §4 rule 5: distinct note-onset classes among the last 8 tokens of S.

    Octaves count as distinct; 0/1 are not pitches (counted as set bits of a 38-bit mask). As in the
    original (``detect_last_motif``), a melody with fewer than 8 tokens has no motif window: the count
    is 0 there.

    :return: (N,) int64, compare with 3 for "rule 5 fires".
    """
    if melodies.shape[1] < BAR:
        return np.zeros(positions.shape[0], dtype=np.int64)
    start = positions - BAR + 1
    first = int(start.min(initial=0))
    if first >= 0 and first == int(start.max(initial=0)):  # all rows at one position: a slice
        window = melodies[:, first : first + BAR]
    else:
        window = melodies[_rows(positions)[:, None], np.maximum(start, 0)[:, None] + np.arange(BAR)]
    bits = np.bitwise_or.reduce(np.where(window >= FIRST_PITCH_CLASS, np.left_shift(1, window), 0), axis=1)
    count = _POPCOUNT[bits.astype(np.int64).view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.int64)
    return np.where(start >= 0, count, 0)


def window_codes(melodies: np.ndarray) -> np.ndarray:
    """Every 8-token window of each row packed into one int64 (6 bits a token; exact, no collisions).

    :return: (N, L - 7) int64, column ``w`` = window ``melodies[:, w:w + 8]``.
    """
    n_windows = melodies.shape[1] - BAR + 1
    if n_windows <= 0:
        return np.zeros((melodies.shape[0], 0), dtype=np.int64)
    codes = melodies[:, :n_windows].astype(np.int64)
    for j in range(1, BAR):
        codes <<= _CODE_BITS
        codes |= melodies[:, j : j + n_windows]
    return codes


def motif_repeated(melodies: np.ndarray, positions: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """SPEC §4 rule 6 (its second half): do the last 8 tokens of S occur earlier, not overlapping?

    The same 8 tokens (0/1 included) must occur contiguously inside ``S[:n-8]``, i.e. in a window
    starting at ``w <= positions - 15``, as in the original's ``composition[:-(bar_length - 1)]``.
    Whether rule 5 fires is not checked here.

    :param codes: ``window_codes(melodies)`` if already known (only windows inside S are compared,
        so codes of finished melodies serve every position).
    :return: (N,) bool.
    """
    if codes is None:
        codes = window_codes(_upto(melodies, positions))
    n_windows = codes.shape[1]
    if n_windows <= BAR:  # no row can hold two disjoint windows yet
        return np.zeros(positions.shape[0], dtype=bool)
    last = codes[_rows(positions), np.clip(positions - BAR + 1, 0, n_windows - 1)]
    earlier = np.arange(n_windows) <= (positions - 2 * BAR + 1)[:, None]
    return ((codes == last[:, None]) & earlier).any(axis=1)


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


class LeapTracker:
    """SPEC §4 rule 8 state machine for N melodies: pending leap direction, pitch leapt from, steps.

    ``step`` must see every note of a melody in order (after ``reset``); it keeps the previous pitch
    (:func:`previous_pitch`) as state. For a 0/1 token: steps += 1,
    outcome 0. A leap is a move of ``>= 7`` semitones from the previous pitch (intervals above an
    octave included). On a leap: pending in the opposite direction → ``RESOLVED`` only if more than 6
    steps passed since that leap, and the pending leap is cleared either way; pending in the same
    direction → ``DOUBLED``, pending kept; nothing pending → store the direction and the pitch leapt
    from. Steps reset to 0 on any leap. On another note: steps += 1, and if it moved back to or past
    the pitch leapt from (ascending: ``a <= from``, descending: ``a >= from``) → ``RESOLVED``, cleared.

    :param num_melodies: N, the number of rows tracked.
    """

    def __init__(self, num_melodies: int) -> None:
        self.direction = np.zeros(num_melodies, dtype=np.int64)  # +1 up, -1 down, 0 none pending
        self.leapt_from = np.zeros(num_melodies, dtype=np.int64)
        self.steps = np.zeros(num_melodies, dtype=np.int64)
        self.last_pitch = np.full(num_melodies, -1, dtype=np.int64)  # = previous_pitch, kept as state

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Forget the state of all rows, or of the rows where ``mask`` is True."""
        sel = slice(None) if mask is None else mask
        self.direction[sel] = 0
        self.leapt_from[sel] = 0
        self.steps[sel] = 0
        self.last_pitch[sel] = -1

    def step(self, melodies: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Consume each row's newest note; return (N,) int64 outcomes ``RESOLVED``, ``DOUBLED`` or 0."""
        a = new_notes(melodies, positions)
        prev = self.last_pitch
        move = a - prev
        leap = (a >= FIRST_PITCH_CLASS) & (prev >= 0) & (np.abs(move) >= LEAP)
        up = np.sign(move)
        pending = self.direction != 0
        opposite = leap & pending & (self.direction != up)
        doubled = leap & pending & (self.direction == up)
        fresh = leap & ~pending
        returned = (
            (a >= FIRST_PITCH_CLASS)
            & ~leap
            & (((self.direction == 1) & (a <= self.leapt_from)) | ((self.direction == -1) & (a >= self.leapt_from)))
        )
        resolved = (opposite & (self.steps > STEPS_BETWEEN_LEAPS)) | returned
        self.direction[opposite | returned] = 0
        self.direction[fresh] = up[fresh]
        self.leapt_from[fresh] = prev[fresh]
        self.steps = np.where(leap, 0, self.steps + 1)
        self.last_pitch = np.where(a >= FIRST_PITCH_CLASS, a, prev)
        return np.where(resolved, RESOLVED, np.where(doubled, DOUBLED, 0))


__all__ = [
    "BAR",
    "DOUBLED",
    "LEAP",
    "RESOLVED",
    "STEPS_BETWEEN_LEAPS",
    "LeapTracker",
    "autocorrelation",
    "excessive_repetition",
    "motif_pitch_count",
    "motif_repeated",
    "new_notes",
    "previous_pitch",
    "unique_extremes",
    "window_codes",
]
