"""Molecules scored per second by :class:`~molecule_env.scoring.scorer.MoleculeScorer`: in this process and in
worker processes, on distinct MOSES test molecules (cold cache), and the same batch again (all cache hits).

``python -m benchmarks.molecules.speed --n 2000 --workers 0 2``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence

from molecule_env.data import load_smiles
from molecule_env.scoring.scorer import MoleculeScorer


def molecules_per_second(smiles: Sequence[str], workers: int) -> dict[str, float]:
    """Cold (every SMILES scored) and warm (all cached) rates of one scorer."""
    scorer = MoleculeScorer(workers=workers, pool_min=1)
    warm_up = [f"C{'C' * i}O" for i in range(4 * max(workers, 1))]  # loads rdkit's SA data, starts the pool
    scorer.score(warm_up)  # not timed; these are not in the measured batch
    start = time.perf_counter()
    scorer.score(list(smiles))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    scorer.score(list(smiles))
    warm = time.perf_counter() - start
    scorer.close()
    return {"workers": workers, "cold_per_second": len(smiles) / cold, "cached_per_second": len(smiles) / warm}


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line per worker count."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.molecules.speed", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = p.parse_args(argv)
    smiles = sorted(set(load_smiles("moses:test", limit=args.n, seed=3).smiles))
    for workers in args.workers:
        row = molecules_per_second(smiles, workers)
        print(json.dumps({"molecules": len(smiles), "cpus": os.cpu_count(), **row}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["main", "molecules_per_second"]
