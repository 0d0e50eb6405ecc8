"""The melodies a seed composed most often, kept beside its statistics (``samples.txt``).

A claim about what a model composes ("each seed loops one figure whatever the primer") needs the
melodies, not only their statistics: the sweep writes, for every seed it scores, the most frequent
melodies among those it scored, with their counts, in the README's notation (docs/spec.md §1: a note
name starts a note, ``-`` holds, ``off`` starts a rest), atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reward_rules.tokens import token_name
from sequence_env.atomic import atomic_write

SAMPLES_FILE = "samples.txt"
SHOWN = 10
"""Melodies listed per seed."""


def most_common(melodies: np.ndarray, k: int = SHOWN) -> list[tuple[int, np.ndarray]]:
    """The ``k`` most frequent rows of ``melodies`` (n, T) with their counts, most frequent first (ties: first
    in row order)."""
    unique, first, counts = np.unique(melodies, axis=0, return_index=True, return_counts=True)
    order = sorted(range(len(unique)), key=lambda i: (-counts[i], first[i]))[:k]
    return [(int(counts[i]), unique[i]) for i in order]


def samples_text(melodies: np.ndarray, k: int = SHOWN) -> str:
    """``samples.txt``: how many distinct melodies there are, then the ``k`` most frequent, one a line."""
    lines = [f"{len(np.unique(melodies, axis=0)):,} distinct of {len(melodies):,} melodies; the most frequent:"]
    lines += [f"{count:>7,}  " + " ".join(token_name(int(t)) for t in row) for count, row in most_common(melodies, k)]
    return "\n".join(lines) + "\n"


def write_samples(path: str | Path, melodies: np.ndarray, k: int = SHOWN) -> Path:
    """Write :func:`samples_text` of ``melodies`` to ``path``, atomically; return the path."""
    with atomic_write(path) as tmp:
        tmp.write_text(samples_text(melodies, k), encoding="utf-8")
    return Path(path)


__all__ = ["SAMPLES_FILE", "SHOWN", "most_common", "samples_text", "write_samples"]
