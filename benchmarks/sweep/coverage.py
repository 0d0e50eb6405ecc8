"""``python -m benchmarks.sweep.coverage``: how often the intervals over seeds cover the truth, by simulation.

For normally distributed seed values (no difference between the two sides for the probability of
improvement), the share of 1,000 simulated samples whose nominal 95 % interval covers the true value: the
Student t-interval of the mean, the percentile bootstrap of the mean and of the IQM
(:func:`benchmarks.sweep.differences.bootstrap_coverage`) and of P(X > Y)
(:func:`benchmarks.sweep.differences.poi_coverage`). The numbers docs/spec.md ("Across seeds") quotes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from benchmarks.sweep.aggregate import t_interval
from benchmarks.sweep.differences import bootstrap_coverage, poi_coverage


def t_coverage(n: int, sims: int = 1_000, seed: int = 0) -> float:
    """Share of ``sims`` normal samples of ``n`` seeds whose 95 % t-interval covers the true mean, 0."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(sims):
        low, high = t_interval(rng.standard_normal(n))
        hits += low <= 0.0 <= high
    return hits / sims


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage table for 3, 5 and 10 seeds (``argv``: other numbers of seeds)."""
    sizes = [int(a) for a in (sys.argv[1:] if argv is None else argv)] or [3, 5, 10]
    print("| seeds | t-interval of the mean | bootstrap of the mean | bootstrap of the IQM | bootstrap of P(X > Y) |")
    print("|---|---|---|---|---|")
    for n in sizes:
        iqm = f"{100 * bootstrap_coverage(n, trimmed=True):.0f} %" if n >= 5 else "—"
        print(f"| {n} | {100 * t_coverage(n):.0f} % | {100 * bootstrap_coverage(n):.0f} % | {iqm} | "
              f"{100 * poi_coverage(n, n):.0f} % |")  # fmt: skip
    return 0


__all__ = ["main", "t_coverage"]

if __name__ == "__main__":
    sys.exit(main())
