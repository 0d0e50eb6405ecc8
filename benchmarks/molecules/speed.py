"""Molecules scored per second by :class:`~molecule_env.scoring.scorer.MoleculeScorer`: in this process and in
worker processes, on distinct MOSES test molecules (cold cache), and the same batch again (all cache hits).

``python -m benchmarks.molecules.speed --n 2000 --workers 0 2 --out benchmarks/results/molecules/speed.json``
(``--out`` also writes the file's provenance beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.provenance import provenance, write_provenance
from molecule_env.data import load_smiles
from molecule_env.scoring.scorer import MoleculeScorer
from sequence_env.atomic import atomic_write


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
    """Print one JSON line per worker count; with ``--out``, also write them and their provenance."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.molecules.speed", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--out", default="", help="a JSON file for the rows (and <stem>.provenance.json beside it)")
    args = p.parse_args(argv)
    started, start = time.time(), time.perf_counter()
    smiles = sorted(set(load_smiles("moses:test", limit=args.n, seed=3).smiles))
    rows = []
    for workers in args.workers:
        rows.append({"molecules": len(smiles), "cpus": os.cpu_count(), **molecules_per_second(smiles, workers)})
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        command = "python -m benchmarks.molecules.speed " + shlex.join(sys.argv[1:] if argv is None else argv)
        with atomic_write(Path(args.out)) as tmp:
            tmp.write_text(json.dumps(rows, indent=2) + "\n")
        write_provenance(args.out, provenance(command, started, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["main", "molecules_per_second"]
