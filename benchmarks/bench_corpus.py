"""Time encoding the default corpus (SPEC §2) cold and from the cache; write benchmarks/results/corpus.md.

Cold = a fresh temporary cache directory (every tune parsed); warm = the same call again (the
``.npz`` cache), measured in this process and in a fresh Python process (imports included).

    python -m benchmarks.bench_corpus [--workers 2] [--single]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path

from melody_env.data import load_corpus


@dataclass
class Args:
    source: str = "music21"
    """corpus source: "music21" or a folder of MIDI/ABC files"""
    workers: int = 2
    """processes for the cold run"""
    single: bool = False
    """also time a cold run with one worker"""
    output: Path = Path(__file__).parent / "results" / "corpus.md"
    """where to write the results table"""


def parse_args() -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in fields(Args):
        default = getattr(Args, f.name)
        if isinstance(default, bool):
            parser.add_argument(f"--{f.name}", action="store_true")
        else:
            parser.add_argument(f"--{f.name}", type=type(default), default=default)
    return Args(**vars(parser.parse_args()))


def cold(source: str, workers: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        corpus = load_corpus(source, cache_dir=cache, workers=workers)
        return time.perf_counter() - t0, corpus.summary


def main() -> None:
    args = parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        summary = load_corpus(args.source, cache_dir=cache, workers=args.workers).summary
        rows.append((f"cold, {args.workers} workers", time.perf_counter() - t0))
        t0 = time.perf_counter()
        warm = load_corpus(args.source, cache_dir=cache)
        rows.append(("warm (cache), same process", time.perf_counter() - t0))
        assert warm.summary["cache_hit"]
        code = f"from melody_env.data import load_corpus; load_corpus({args.source!r}, cache_dir={cache!r})"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        rows.append(("warm (cache), new process incl. imports", time.perf_counter() - t0))
    if args.single:
        rows.append(("cold, 1 worker", cold(args.source, 1)[0]))

    skipped = ", ".join(f"{k}: {v}" for k, v in summary["skipped"].items()) or "none"
    lines = [
        "# Corpus encoding benchmark",
        "",
        f"Command: `python -m benchmarks.bench_corpus{' --single' if args.single else ''}`  ",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}; shared with other jobs, so timings are noisy.",
        "",
        "| run | seconds |",
        "|---|---|",
        *[f"| {name} | {sec:.2f} |" for name, sec in rows],
        "",
        f"Corpus `{args.source}`: {summary['files']} files, {summary['tunes']} tunes, {summary['melodies']} melodies "
        f"({summary['valid_melodies']} validation), {summary['steps']} steps; skipped: {skipped}; "
        f"truncated to 512 steps: {summary['truncated']}.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
