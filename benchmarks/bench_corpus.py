"""Time encoding the default corpus (SPEC §2) cold and from the cache; write benchmarks/results/corpus.md.

Cold = a fresh temporary cache directory (every tune parsed); warm = the same call again (the
``.npz`` cache), measured in this process and in a fresh Python process (imports included).

    python -m benchmarks.bench_corpus [--workers 2] [--single]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
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


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (pool workers, abc2midi runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(name: str, call) -> tuple[tuple[str, float, float], object]:
    """Run ``call()``; return (name, wall seconds, CPU seconds) and its result."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = call()
    return (name, time.perf_counter() - wall, cpu_seconds() - cpu), result


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        row, corpus = timed(
            f"cold, {args.workers} workers", lambda: load_corpus(args.source, cache_dir=cache, workers=args.workers)
        )
        rows.append(row)
        summary = corpus.summary
        row, warm = timed("warm (cache), same process", lambda: load_corpus(args.source, cache_dir=cache))
        rows.append(row)
        assert warm.summary["cache_hit"]
        code = f"from melody_env.data import load_corpus; load_corpus({args.source!r}, cache_dir={cache!r})"
        rows.append(
            timed(
                "warm (cache), new process incl. imports",
                lambda: subprocess.run([sys.executable, "-c", code], check=True),
            )[0]
        )
    if args.single:
        with tempfile.TemporaryDirectory() as cache:
            rows.append(timed("cold, 1 worker", lambda: load_corpus(args.source, cache_dir=cache, workers=1))[0])

    skipped = ", ".join(f"{k}: {v}" for k, v in summary["skipped"].items()) or "none"
    lines = [
        "# Corpus encoding benchmark",
        "",
        f"Command: `python -m benchmarks.bench_corpus{' --single' if args.single else ''}`  ",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}; shared with other jobs (load average {load_before:.1f} at the start), "
        "so wall times are noisy; CPU seconds (this process + finished children) are steadier.",
        "",
        "| run | wall s | CPU s |",
        "|---|---|---|",
        *[f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, wall, cpu in rows],
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
