"""Speed of the reward rules (SPEC §4) and the Table 1 statistics (SPEC §7); writes results/rules.md.

Targets: all statistics of 100,000 melodies of 32 steps in <= 10 s on 2 cores (issue 4); one
``RuleEvaluator.step`` with N = 1 row in <= 100 µs (the single env at >= 5,000 steps/s) and
>= 500,000 note-steps/s with N = 256 rows (the vector env).

    python -m benchmarks.bench_rules                      # full run
    python -m benchmarks.bench_rules --num-melodies 2000 --batch-sizes 1 64 --out /tmp/rules.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from reward_rules import RuleEvaluator, extra_stats, table1_intervals, table1_stats


@dataclass
class Args:
    num_melodies: int = 100_000
    """Melodies scored by the statistics benchmark."""
    length: int = 32
    """Steps per melody."""
    batch_sizes: list[int] = field(default_factory=lambda: [1, 16, 64, 256, 1024, 4096])
    """Numbers of rows N stepped together by the evaluator benchmark."""
    evaluator_steps: int = 65_536
    """Note-steps (N × steps) timed per batch size, at least one melody."""
    repeats: int = 3
    """Timed repetitions; the best is reported (the machine is shared)."""
    seed: int = 0
    """Seed of the synthetic melodies."""
    out: Path = Path(__file__).parent / "results" / "rules.md"
    """Markdown report written here."""


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """Build ``Args`` from the command line (one option per field, documented by its docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Args()
    for f in fields(Args):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, list):
            parser.add_argument(flag, type=int, nargs="+", default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    return Args(**vars(parser.parse_args(argv)))


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


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    melodies = walk_melodies(args.num_melodies, args.length, args.seed)
    t_table1 = best_time(lambda: table1_stats(melodies), args.repeats)
    t_extra = best_time(lambda: extra_stats(melodies), args.repeats)
    t_intervals = best_time(lambda: table1_intervals(melodies), 1)
    stats, extras = table1_stats(melodies), extra_stats(melodies)
    rates = {n: bench_evaluator(n, args) for n in args.batch_sizes}

    given = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python -m benchmarks.bench_rules", *(shlex.quote(a) for a in given)])
    lines = [
        "# Reward rules benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores visible (2 cores; shared with other jobs, so timings are noisy), "
        f"Python {platform.python_version()}, numpy {np.__version__}. Best of {args.repeats} runs.",
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
