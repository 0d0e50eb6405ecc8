"""Speed of the reward rules (docs/spec.md §4) and the Table 1 statistics (docs/spec.md §7); writes results/rules.md.

Targets: all statistics of 100,000 melodies of 32 steps in <= 10 s on 2 cores; one
``RuleEvaluator.step`` with N = 1 row in <= 100 µs (the single env at >= 5,000 steps/s) and
>= 500,000 note-steps/s with N = 256 rows (the vector env).

    python -m benchmarks.speed.bench_rules                      # full run
    python -m benchmarks.speed.bench_rules --num-melodies 2000 --batch-sizes 1,64 --out /tmp/rules.md
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.args import parse_dataclass
from benchmarks.provenance import provenance, write_provenance
from benchmarks.timing import best_time, command, machine, write_report
from reward_rules import RuleEvaluator, extra_stats, table1_intervals, table1_stats


@dataclass
class Args:
    num_melodies: int = 100_000
    """Melodies scored by the statistics benchmark."""
    length: int = 32
    """Steps per melody."""
    batch_sizes: str = "1,16,64,256,1024,4096"
    """Numbers of rows N stepped together by the evaluator benchmark, comma-separated."""
    evaluator_steps: int = 65_536
    """Note-steps (N × steps) timed per batch size, at least one melody."""
    repeats: int = 3
    """Timed repetitions; the best is reported (the machine is shared)."""
    seed: int = 0
    """Seed of the synthetic melodies."""
    out: str = str(Path(__file__).parents[1] / "results" / "rules.md")
    """Markdown report written here."""


def walk_melodies(n: int, length: int, seed: int) -> np.ndarray:
    """Synthetic melodies: a random walk of steps up to a fourth, 30 % holds, 5 % rests, 5 % leaps."""
    rng = np.random.default_rng(seed)
    pitch = rng.integers(2, 38, size=n)
    out = np.empty((n, length), dtype=np.int64)
    for t in range(length):
        move = np.where(rng.random(n) < 0.05, rng.integers(-12, 13, size=n), rng.integers(-5, 6, size=n))
        pitch = np.clip(pitch + move, 2, 37)
        kind = rng.random(n)
        out[:, t] = np.where(kind < 0.30, 1, np.where(kind < 0.35, 0, pitch))
    return out


def bench_evaluator(n: int, args: Args) -> float:
    """Note-steps per second of ``RuleEvaluator.step`` with ``n`` rows (whole melodies, resets included)."""
    episodes = max(1, args.evaluator_steps // (n * args.length))
    actions = walk_melodies(n * episodes, args.length, args.seed).reshape(episodes, n, args.length)
    evaluator = RuleEvaluator(n, length=args.length)

    def run() -> None:
        for episode in actions:
            evaluator.reset()
            for t in range(args.length):
                evaluator.step(episode[:, t])

    return episodes * n * args.length / best_time(run, args.repeats)


def batch_sizes(text: str) -> list[int]:
    """The comma-separated row counts of ``--batch-sizes`` (e.g. ``"1,64"``), each a positive int."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--batch-sizes takes comma-separated ints such as 1,64; got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--batch-sizes needs at least one positive int, e.g. 1,64; got {text!r}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.speed.bench_rules [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "python -m benchmarks.speed.bench_rules", __doc__.splitlines()[0])
    started, start = time.time(), time.perf_counter()
    sizes = batch_sizes(args.batch_sizes)
    melodies = walk_melodies(args.num_melodies, args.length, args.seed)
    t_table1 = best_time(lambda: table1_stats(melodies), args.repeats)
    t_extra = best_time(lambda: extra_stats(melodies), args.repeats)
    t_intervals = best_time(lambda: table1_intervals(melodies), 1)
    stats, extras = table1_stats(melodies), extra_stats(melodies)
    rates = {n: bench_evaluator(n, args) for n in sizes}
    lines = [
        "# Reward rules benchmark",
        "",
        f"Command: `{command('benchmarks.speed.bench_rules', argv)}`",
        "",
        f"Machine: {machine()}; shared with other jobs, so timings are noisy. Best of {args.repeats} runs.",
        "",
        f"## Statistics of {args.num_melodies:,} melodies × {args.length} steps (target ≤ 10 s)",
        "",
        "| computation | seconds |",
        "|---|---|",
        f"| table1_stats (11 statistics) | {t_table1:.2f} |",
        f"| extra_stats | {t_extra:.2f} |",
        f"| table1_stats + extra_stats | {t_table1 + t_extra:.2f} |",
        f"| table1_intervals (Wilson + 1000 bootstrap resamples; one run) | {t_intervals:.2f} |",
        "",
        "Values on the synthetic random-walk melodies (a sanity check, not a result):",
        "",
        "| statistic | value |",
        "|---|---|",
        *(f"| {k} | {v:.4f} |" for k, v in {**stats, **extras}.items()),
        "",
        "## RuleEvaluator.step throughput (targets: N = 1 ≤ 100 µs a step, N = 256 ≥ 500,000 note-steps/s)",
        "",
        "| rows N | note-steps/s | µs per step |",
        "|---|---|---|",
        *(f"| {n} | {rate:,.0f} | {n / rate * 1e6:,.1f} |" for n, rate in rates.items()),
        "",
    ]
    write_report(args.out, lines)
    write_provenance(
        args.out, provenance(command("benchmarks.speed.bench_rules", argv), started, time.perf_counter() - start)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
