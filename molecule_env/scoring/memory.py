"""The scaffold memory of REINVENT's diversity filter (Blaschke et al., "Memory-assisted reinforcement
learning for diverse molecular de novo design", J. Cheminf. 2020).

Molecules are put in buckets by their Bemis–Murcko scaffold; a bucket holds at most ``bucket_size``
molecules, and a molecule whose bucket is full is a repeat: the filter scores it 0. The memory lasts
for the whole run (it is not reset between episodes). Acyclic molecules share the scaffold ``""``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


class ScaffoldMemory:
    """Counts of molecules admitted per scaffold.

    :param bucket_size: molecules per scaffold before the scaffold's repeats score 0 (REINVENT's default: 25).
    """

    def __init__(self, bucket_size: int = 25) -> None:
        if isinstance(bucket_size, bool) or not isinstance(bucket_size, int) or bucket_size < 1:
            raise ValueError(f"bucket_size must be a positive int, got {bucket_size!r}")
        self.bucket_size = bucket_size
        self.counts: Counter[str] = Counter()

    def admit(self, scaffolds: Sequence[str | None]) -> np.ndarray:
        """``(N,)`` 1.0 for each molecule whose bucket has room (it is then counted), 0.0 for a repeat or ``None``
        (an invalid molecule, never stored); in order, so a batch can fill a bucket."""
        out = np.zeros(len(scaffolds))
        for i, key in enumerate(scaffolds):
            if key is not None and self.counts[key] < self.bucket_size:
                self.counts[key] += 1
                out[i] = 1.0
        return out

    def __len__(self) -> int:
        """Scaffolds seen."""
        return len(self.counts)


__all__ = ["ScaffoldMemory"]
