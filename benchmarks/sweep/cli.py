"""``rl-tuner sweep``: the command-line flags of a sweep (see :class:`benchmarks.sweep.grid.SweepConfig`).

A bad flag or value prints one line naming it and the fix, and exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from benchmarks.sweep.grid import SEARCHES, TRAINERS, SweepConfig, Value, parse_value

PROG = "rl-tuner sweep"


class UsageError(Exception):
    """A flag the sweep cannot run with (printed as one line, exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The flags of ``rl-tuner sweep``."""
    p = _Parser(prog=PROG, description="Train and score every (algorithm, c, seed, …) on Ray Tune; "
                "aggregate across seeds.")  # fmt: skip
    p.add_argument("--algorithms", default=",".join(TRAINERS), help=f"comma-separated, of {','.join(TRAINERS)}")
    p.add_argument("--c", default="0.5", help="values of c, comma-separated (with --search optuna also lo:hi)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per cell (default: 5)")
    p.add_argument("--steps", type=int, default=200_000, help="env steps per tuner (default: 200000)")
    p.add_argument("--melodies", type=int, default=10_000, help="melodies scored per model and seed (default: 10000)")
    p.add_argument("--outside", type=int, default=0, help="melodies per model and seed for outside.md (default: 0)")
    p.add_argument("--n-envs", type=int, default=64, help="melodies in parallel while training (default: 64)")
    p.add_argument("--exploration", default="", help="egreedy and/or boltzmann, comma-separated (default: the tuner's)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=V1[,V2]",
        help="a tuner hyperparameter, e.g. learning_rate=1e-3,3e-4 (with --search optuna also lo:hi)",
    )
    p.add_argument("--out", default="runs/sweep", help="output folder; rerunning resumes in it")
    p.add_argument("--address", default=None, help="an existing Ray cluster (default: RAY_ADDRESS, else a local Ray)")
    p.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray, one trial each (default: all)")
    p.add_argument("--seeds-per-trial", type=int, default=1, help="seeds trained within one trial (default: 1)")
    p.add_argument("--search", default="grid", choices=SEARCHES, help="grid (every cell) or optuna")
    p.add_argument("--samples", type=int, default=10, help="trials sampled by --search optuna (default: 10)")
    p.add_argument("--metric", default="mean_log_prior", help="statistic optimised by --search (mean over seeds)")
    p.add_argument("--mode", default="max", help="max or min of --metric")
    p.add_argument(
        "--allow-mixed-commits",
        action="store_true",
        help="report seeds trained at different commits together (the report says so)",
    )
    return p  # fmt: skip


def _values(flag: str, text: str, kind: type | None = None) -> tuple[Value, ...]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if kind is None:
        return tuple(parse_value(t) for t in items)
    try:
        return tuple(kind(t) for t in items)
    except ValueError:
        raise UsageError(f"{flag} takes comma-separated numbers, got {text!r}") from None


def _range(flag: str, text: str) -> tuple[float, float] | None:
    if ":" not in text:
        return None
    low, _, high = text.partition(":")
    bounds = parse_value(low), parse_value(high)
    if not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds):
        raise UsageError(f"{flag} range must be two numbers lo:hi, got {text!r}")
    return bounds


def config_from_args(args: argparse.Namespace) -> SweepConfig:
    """The :class:`SweepConfig` of parsed flags (``ValueError`` / :class:`UsageError` on bad values)."""
    hyper: dict[str, tuple[Value, ...]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise UsageError(f"--set takes NAME=VALUE[,VALUE…] or NAME=LO:HI, got {item!r}")
        bounds = _range(f"--set {name}", text)
        if bounds is None:
            hyper[name.strip()] = _values(f"--set {name}", text)
        else:
            ranges[name.strip()] = bounds
    c_range = _range("--c", args.c)
    if c_range is not None:
        ranges["c"] = c_range
    return SweepConfig(
        algorithms=tuple(a.strip() for a in args.algorithms.split(",") if a.strip()),
        c=(0.5,) if c_range is not None else tuple(float(v) for v in _values("--c", args.c, float)),
        seeds=args.seeds,
        steps=args.steps,
        melodies=args.melodies,
        outside=args.outside,
        n_envs=args.n_envs,
        exploration=tuple(e.strip() for e in args.exploration.split(",") if e.strip()),
        hyperparameters=hyper,
        ranges=ranges,
        out=args.out,
        address=args.address,
        cpus=args.cpus,
        seeds_per_trial=args.seeds_per_trial,
        search=args.search,
        samples=args.samples,
        metric=args.metric,
        mode=args.mode,
        allow_mixed_commits=args.allow_mixed_commits,
    )


def _check_installed(config: SweepConfig) -> None:
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.tune") is None:
        raise UsageError('the sweep runs on Ray Tune, which is not installed: pip install -e ".[sweep]"')
    if config.search == "optuna" and importlib.util.find_spec("optuna") is None:
        raise UsageError('--search optuna needs Optuna, which is not installed: pip install -e ".[optuna]"')


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rl-tuner sweep``: run the sweep, print where its tables are."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = config_from_args(build_parser().parse_args(argv))
        _check_installed(config)
    except (UsageError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    from benchmarks.sweep.runner import run_sweep

    try:
        summary = run_sweep(config, "rl-tuner sweep " + shlex.join(argv))
    except ValueError as exc:  # the folder holds runs of other settings
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 1 if summary["failed"] else 0


__all__ = ["UsageError", "build_parser", "config_from_args", "main"]
