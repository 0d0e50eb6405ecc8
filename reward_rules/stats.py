"""Table 1 statistics of a sample of melodies (docs/spec.md §7), their confidence intervals, and extras.

Each melody is replayed note by note through the same detector trackers as the rules (rules 3, 5, 6,
8 of docs/spec.md §4, in :mod:`reward_rules.detectors`), all N melodies at once: one vectorised call per step.
A statistic with nothing to count is NaN, never 0: "leaps resolved" of melodies without a leap, and
the autocorrelations when every melody is constant (docs/spec.md §7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from statistics import NormalDist

import numpy as np

from reward_rules import detectors
from reward_rules.tokens import (
    C_MAJOR,
    FIRST_PITCH_CLASS,
    NO_EVENT,
    NOTE_OFF,
    NUM_CLASSES,
    PITCH_OFFSET,
    Key,
    validate_melody,
)

TABLE1_KEYS = (
    "notes_excessively_repeated",
    "autocorrelation_lag1",
    "autocorrelation_lag2",
    "autocorrelation_lag3",
    "notes_not_in_key",
    "melodies_starting_with_tonic",
    "leaps_resolved",
    "unique_max_note",
    "unique_min_note",
    "notes_in_motif",
    "notes_in_repeated_motif",
)
"""The eleven Table 1 statistics, in the paper's row order."""


@dataclass(frozen=True)
class MelodyScores:
    """Per-note and per-melody detector outputs for N melodies of T steps (docs/spec.md §7).

    :param repeated: (N, T) rule 3 detects excessive repetition at this note.
    :param not_in_key: (N, T) the token is not in the key set.
    :param in_motif: (N, T) rule 5 fires at this note.
    :param in_repeated_motif: (N, T) rule 6 fires at this note.
    :param leap: (N, T) rule 8 outcome, ``detectors.RESOLVED`` (1), ``detectors.DOUBLED`` (−1) or 0.
    :param autocorrelation: (N, 3) rule 4 coefficients at lags 1–3 of the whole melody (NaN if constant).
    :param starts_with_tonic: (N,) the first token is the tonic class.
    :param unique_max: (N,) rule 9: the highest token occurs once.
    :param unique_min: (N,) rule 9: the lowest pitch occurs once.
    """

    repeated: np.ndarray
    not_in_key: np.ndarray
    in_motif: np.ndarray
    in_repeated_motif: np.ndarray
    leap: np.ndarray
    autocorrelation: np.ndarray
    starts_with_tonic: np.ndarray
    unique_max: np.ndarray
    unique_min: np.ndarray

    @classmethod
    def concatenate(cls, parts: Sequence[MelodyScores]) -> MelodyScores:
        """The scores of the melodies of ``parts``, one part after the other (every field joined by rows)."""
        return cls(*(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(cls)))


@dataclass(frozen=True)
class Interval:
    """A statistic with its confidence interval.

    :param value: the statistic (as in ``table1_stats``).
    :param low: lower confidence bound.
    :param high: upper confidence bound.
    :param n: trials (notes, melodies or leaps) or values behind it.
    """

    value: float
    low: float
    high: float
    n: int


def _validate_batch(melodies: object) -> np.ndarray:
    arr = validate_melody(melodies, name="melodies")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"melodies must be a non-empty (N, T) array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def score_melodies(melodies: np.ndarray, key: Key = C_MAJOR) -> MelodyScores:
    """Run the rule detectors over every note of N melodies (docs/spec.md §7), stepping all rows together.

    :param melodies: (N, T) integer classes 0..37; T is the melody length (32 in the paper).
    :param key: the key of "notes not in key" and "starting with tonic".
    """
    mel = _validate_batch(melodies)
    n, t_len = mel.shape
    repeated = np.zeros((n, t_len), dtype=bool)
    in_motif = np.zeros((n, t_len), dtype=bool)
    in_repeated = np.zeros((n, t_len), dtype=bool)
    leap = np.zeros((n, t_len), dtype=np.int8)
    repetition, motif, leaps = (
        detectors.RepetitionTracker(n),
        detectors.MotifTracker(n, t_len),
        detectors.LeapTracker(n),
    )
    for t in range(t_len):
        a, pos = mel[:, t], np.full(n, t, dtype=np.int64)
        repeated[:, t] = repetition.step(a)
        motif.step(a, pos)
        in_motif[:, t] = motif.distinct() >= 3
        in_repeated[:, t] = in_motif[:, t] & motif.repeated
        leap[:, t] = leaps.step(a)
    last = np.full(n, t_len - 1, dtype=np.int64)
    unique_max, unique_min = detectors.unique_extremes(mel, last)
    return MelodyScores(
        repeated=repeated,
        not_in_key=~key.in_key[mel],
        in_motif=in_motif,
        in_repeated_motif=in_repeated,
        leap=leap,
        autocorrelation=detectors.autocorrelation(mel, last),
        starts_with_tonic=mel[:, 0] == key.tonic_class,
        unique_max=unique_max,
        unique_min=unique_min,
    )


def _proportions(scores: MelodyScores) -> dict[str, tuple[int, int]]:
    """(successes, trials) of every proportion of Table 1."""
    notes = scores.repeated.size
    melodies = scores.starts_with_tonic.size
    resolved = int((scores.leap == detectors.RESOLVED).sum())
    doubled = int((scores.leap == detectors.DOUBLED).sum())
    return {
        "notes_excessively_repeated": (int(scores.repeated.sum()), notes),
        "notes_not_in_key": (int(scores.not_in_key.sum()), notes),
        "melodies_starting_with_tonic": (int(scores.starts_with_tonic.sum()), melodies),
        "leaps_resolved": (resolved, resolved + doubled),
        "unique_max_note": (int(scores.unique_max.sum()), melodies),
        "unique_min_note": (int(scores.unique_min.sum()), melodies),
        "notes_in_motif": (int(scores.in_motif.sum()), notes),
        "notes_in_repeated_motif": (int(scores.in_repeated_motif.sum()), notes),
    }


def table1_stats(melodies: np.ndarray, key: Key = C_MAJOR) -> dict[str, float]:
    """The eleven Table 1 statistics of docs/spec.md §7 for N melodies, keyed as ``TABLE1_KEYS``.

    Proportions in [0, 1]: per note ("notes_*": over all N·T notes), per melody, and
    ``leaps_resolved = resolved / (resolved + leapt twice)`` over all notes. Autocorrelations are the
    mean signed rule-4 coefficient of each whole melody, constant melodies (NaN) skipped
    (docs/spec.md §7). A ratio with nothing to count is NaN (0/0): ``leaps_resolved`` when no melody
    leaps, the autocorrelations when every melody is constant; ``table1_intervals`` gives ``n = 0``
    for it. Callers that average these over runs should skip NaN (``np.nanmean``).

    :param melodies: (N, T) integer classes 0..37.
    :param key: the key of the rules (default C major).
    """
    return table1_stats_of(score_melodies(melodies, key))


def table1_stats_of(scores: MelodyScores) -> dict[str, float]:
    """:func:`table1_stats` of the melodies ``scores`` describes (:func:`score_melodies`, in its key)."""
    return {name: iv.value for name, iv in table1_intervals_of(scores, n_bootstrap=0).items()}


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; ``(nan, nan)`` when there are no trials."""
    if trials == 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def bootstrap_mean_interval(
    values: np.ndarray, confidence: float = 0.95, n_bootstrap: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean of each column of ``values`` (rows resampled together).

    :param values: (n,) or (n, k) values; rows are resampled with replacement.
    :param n_bootstrap: resamples, at least 1.
    :return: ``(low, high)``, each of shape ``values.shape[1:]``; NaN when there are no rows.
    """
    values = np.asarray(values, dtype=np.float64)
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive int, got {n_bootstrap!r}")
    if values.shape[0] == 0:
        return np.full(values.shape[1:], np.nan), np.full(values.shape[1:], np.nan)
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    chunk = max(1, 2_000_000 // n)
    means = []
    for done in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - done)
        draws = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)  # times each row is drawn
        means.append(counts @ values / n)
    means = np.concatenate(means)
    alpha = (1 - confidence) / 2
    return np.quantile(means, alpha, axis=0), np.quantile(means, 1 - alpha, axis=0)


def table1_intervals(
    melodies: np.ndarray, key: Key = C_MAJOR, confidence: float = 0.95, n_bootstrap: int = 1000, seed: int = 0
) -> dict[str, Interval]:
    """``table1_stats`` with confidence intervals: Wilson for proportions, bootstrap for the means.

    Wilson treats each counted note (or melody, or leap) as an independent trial; notes of one melody
    are correlated, so note-level intervals are optimistic. ``n_bootstrap=0`` skips the bootstrap
    (the autocorrelation bounds then equal the value). A NaN statistic (nothing to count) has NaN
    bounds and ``n = 0``.

    :param melodies: (N, T) integer classes 0..37.
    :param key: the key of the rules.
    :param confidence: confidence level in (0, 1).
    :param n_bootstrap: bootstrap resamples of the autocorrelation means.
    :param seed: seed of the bootstrap.
    """
    return table1_intervals_of(score_melodies(melodies, key), confidence, n_bootstrap, seed)


def table1_intervals_of(
    scores: MelodyScores, confidence: float = 0.95, n_bootstrap: int = 1000, seed: int = 0
) -> dict[str, Interval]:
    """:func:`table1_intervals` of the melodies ``scores`` describes (:func:`score_melodies`, in its key)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    counts = _proportions(scores)
    # A melody's three coefficients are NaN together (constant melody), so the lags share rows.
    defined = scores.autocorrelation[~np.isnan(scores.autocorrelation[:, 0])]
    means = defined.mean(axis=0) if defined.shape[0] else np.full(3, np.nan)
    if n_bootstrap:
        low, high = bootstrap_mean_interval(defined, confidence, n_bootstrap, seed)
    else:
        low, high = means, means
    out: dict[str, Interval] = {}
    for name in TABLE1_KEYS:
        if name.startswith("autocorrelation_lag"):
            j = int(name[-1]) - 1
            out[name] = Interval(float(means[j]), float(low[j]), float(high[j]), int(defined.shape[0]))
        else:
            hits, trials = counts[name]
            value = hits / trials if trials else float("nan")
            out[name] = Interval(value, *wilson_interval(hits, trials, confidence), trials)
    return out


def extra_stats(melodies: np.ndarray) -> dict[str, float]:
    """Statistics beyond Table 1 for N melodies (averages over melodies unless said otherwise).

    - ``pitch_class_entropy``: Shannon entropy (bits, max log2 12 ≈ 3.58) of a melody's pitch-class
      histogram of note onsets; 0 for a melody without onsets.
    - ``distinct_pitches``: distinct onset classes in a melody (octaves distinct).
    - ``distinct_melodies``: distinct melodies / N (1.0 = all different; low = mode collapse).
    - ``rest_share`` / ``hold_share``: share of tokens that are 0 (note off) / 1 (no event).

    :param melodies: (N, T) integer classes 0..37.
    """
    mel = _validate_batch(melodies)
    n = mel.shape[0]
    row = np.arange(n)[:, None]
    pc = np.where(mel >= FIRST_PITCH_CLASS, (mel + PITCH_OFFSET) % 12, 12)  # 12 = not an onset
    hist = np.bincount((row * 13 + pc).ravel(), minlength=n * 13).reshape(n, 13)[:, :12]
    total = hist.sum(axis=1, keepdims=True)
    p = np.divide(hist, total, out=np.zeros(hist.shape), where=total > 0)
    entropy = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)
    present = np.bincount((row * NUM_CLASSES + mel).ravel(), minlength=n * NUM_CLASSES).reshape(n, NUM_CLASSES) > 0
    distinct_rows = np.unique(mel.view(np.dtype((np.void, mel.dtype.itemsize * mel.shape[1])))).size
    return {
        "pitch_class_entropy": float(entropy.mean()),
        "distinct_pitches": float(present[:, FIRST_PITCH_CLASS:].sum(axis=1).mean()),
        "distinct_melodies": distinct_rows / mel.shape[0],
        "rest_share": float((mel == NOTE_OFF).mean()),
        "hold_share": float((mel == NO_EVENT).mean()),
    }


__all__ = [
    "TABLE1_KEYS",
    "Interval",
    "MelodyScores",
    "bootstrap_mean_interval",
    "extra_stats",
    "score_melodies",
    "table1_intervals",
    "table1_intervals_of",
    "table1_stats",
    "table1_stats_of",
    "wilson_interval",
]
