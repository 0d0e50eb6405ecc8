"""Time encoding the default corpus (docs/spec.md §2) cold and from the cache; write benchmarks/results/corpus.md.

Cold = a fresh temporary cache directory (every tune parsed); warm = the same call again (the
``.npz`` cache), measured in this process and in a fresh Python process (imports included).

    python -m benchmarks.speed.bench_corpus [--workers 2] [--single]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.args import parse_dataclass
from benchmarks.provenance import provenance, write_provenance
from benchmarks.timing import command, machine, write_report
from melody_env.data import load_corpus

Row = tuple[str, float, float]


@dataclass
class Args:
    source: str = "music21"
    """corpus source: "music21" or a folder of MIDI/ABC files"""
    workers: int = 2
    """processes for the cold run"""
    single: bool = False
    """also time a cold run with one worker"""
    output: str = str(Path(__file__).parents[1] / "results" / "corpus.md")
    """where to write the results table"""


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (pool workers, abc2midi runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(name: str, call: Callable[[], object]) -> tuple[Row, object]:
    """Run ``call()``; return (name, wall seconds, CPU seconds) and its result."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = call()
    return (name, time.perf_counter() - wall, cpu_seconds() - cpu), result


def time_corpus(source: str, workers: int, single: bool = False, new_process: bool = True) -> tuple[list[Row], dict]:
    """Encode ``source`` into a fresh temporary cache (cold), then load it again from that cache (warm).

    :param source: ``"music21"`` or a folder of MIDI/ABC files.
    :param workers: processes of the cold run.
    :param single: also time a cold run with one worker.
    :param new_process: also time the warm load in a new Python process, imports included.
    :return: rows (name, wall seconds, CPU seconds) and the corpus summary.
    """
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        row, corpus = timed(
            f"cold, {workers} worker{'s' * (workers != 1)}",
            lambda: load_corpus(source, cache_dir=cache, workers=workers),
        )
        rows.append(row)
        row, warm = timed("warm (cache), same process", lambda: load_corpus(source, cache_dir=cache))
        rows.append(row)
        if not warm.summary["cache_hit"]:
            raise RuntimeError(f"the second load of {source!r} missed the cache in {cache}")
        if new_process:
            code = f"from melody_env.data import load_corpus; load_corpus({source!r}, cache_dir={cache!r})"
            call = [sys.executable, "-c", code]
            rows.append(timed("warm (cache), new process incl. imports", lambda: subprocess.run(call, check=True))[0])
    if single:
        with tempfile.TemporaryDirectory() as cache:
            rows.append(timed("cold, 1 worker", lambda: load_corpus(source, cache_dir=cache, workers=1))[0])
    return rows, corpus.summary


def corpus_lines(source: str, summary: dict) -> list[str]:
    """One paragraph describing the encoded corpus."""
    skipped = ", ".join(f"{k}: {v}" for k, v in summary["skipped"].items()) or "none"
    return [
        f"Corpus `{source}`: {summary['files']} files, {summary['tunes']} tunes, {summary['melodies']} melodies "
        f"({summary['valid_melodies']} validation), {summary['steps']} steps; skipped: {skipped}; "
        f"truncated to 512 steps: {summary['truncated']}."
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.speed.bench_corpus [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "python -m benchmarks.speed.bench_corpus", __doc__.splitlines()[0])
    started, start = time.time(), time.perf_counter()
    load_before = os.getloadavg()[0]
    rows, summary = time_corpus(args.source, args.workers, args.single)
    lines = [
        "# Corpus encoding benchmark",
        "",
        f"Command: `{command('benchmarks.speed.bench_corpus', argv)}`  ",
        f"Machine: {machine()}; shared with other jobs (load average {load_before:.1f} at the start), "
        "so wall times are noisy; CPU seconds (this process + finished children) are steadier.",
        "",
        "| run | wall s | CPU s |",
        "|---|---|---|",
        *[f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, wall, cpu in rows],
        "",
        *corpus_lines(args.source, summary),
        "",
    ]
    write_report(args.output, lines)
    write_provenance(
        args.output, provenance(command("benchmarks.speed.bench_corpus", argv), started, time.perf_counter() - start)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
