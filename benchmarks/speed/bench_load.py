"""Speed under load: torch's global default threads against the env's one thread, idle and with a core kept busy.

Users run the env next to other work. With torch's default threads (one per core) every parallel
region of a tiny network waits for all its threads, and when another process holds a core one of
them is descheduled. This benchmark measures, side by side in one run:

- the N = 256 vector env (``MelodyComposeVectorEnv``, random actions, autoresets included), in
  melody-steps/s, with ``torch_threads=None`` (the global setting, torch's default) and with the
  env's default ``torch_threads=1``;
- Q-learning, ``RLTuner("q", "MelodyCompose-v0", n_envs=64).learn(...)``, in env steps/s (gradient
  steps included), with ``torch_threads=None`` for the tuner and its env, and with their defaults;

each on the machine as it is ("idle") and with one more process spinning in pure Python ("loaded";
:func:`busy_core`). The process keeps torch's default global thread count throughout.

    python -m benchmarks.speed.bench_load                                   # writes runs/bench_load.md
    python -m benchmarks.speed.bench_load --vector-steps 66 --train-steps 2000 --out /tmp/load.md
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.args import parse_dataclass, require
from benchmarks.timing import best_time, command, machine, write_report
from melody_env.vector import MelodyComposeVectorEnv

# Label -> torch_threads passed to the env (and to the tuner).
SETTINGS: dict[str, int | None] = {"global default threads (torch_threads=None)": None, "defaults (torch_threads=1)": 1}
LOADS = {"idle": False, "loaded": True}


@dataclass
class Args:
    """Settings of the load benchmark."""

    num_envs: int = 256
    """rows N of the vector env"""
    vector_steps: int = 330
    """vector steps timed per run (10 melodies of 32 notes per row, autoresets included)"""
    train_steps: int = 20_000
    """env steps of each Q-learning run"""
    train_envs: int = 64
    """melodies in parallel while training"""
    repeats: int = 3
    """timed repetitions of the vector env; the best is reported (the machine is shared)"""
    seed: int = 0
    """seed of the actions, the envs and the tuners"""
    out: str = "runs/bench_load.md"
    """Markdown report written here"""

    def __post_init__(self) -> None:
        for name in ("num_envs", "vector_steps", "train_steps", "train_envs", "repeats"):
            require(getattr(self, name) >= 1, name, "a positive integer", getattr(self, name))


@contextmanager
def busy_core(busy: bool = True) -> Iterator[subprocess.Popen | None]:
    """Keep one core busy for the block with a separate process spinning in pure Python.

    :param busy: ``False`` runs the block on the machine as it is (yields ``None``).
    :return: the spinning process (killed when the block ends).
    """
    if not busy:
        yield None
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # the interpreter starts and spins before the timing begins
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def vector_rate(threads: int | None, num_envs: int, steps: int, repeats: int, seed: int = 0) -> float:
    """Melody-steps/s of the vector env of ``num_envs`` rows on ``torch_threads=threads`` (best of ``repeats``)."""
    env = MelodyComposeVectorEnv(num_envs=num_envs, torch_threads=threads)
    actions = np.random.default_rng(seed).integers(0, 38, (steps, num_envs))
    env.reset(seed=seed)

    def run() -> None:
        for act in actions:
            env.step(act)

    return steps * num_envs / best_time(run, repeats)


def training_rate(threads: int | None, steps: int, n_envs: int, seed: int = 0) -> float:
    """Env steps/s of one Q-learning run of ``steps`` env steps through ``RLTuner``'s public API.

    :param threads: ``None``: ``torch_threads=None`` for the tuner and its env (the global setting);
        ``1``: their defaults.
    """
    from agents import RLTuner  # heavy: only when training is measured

    kwargs = {} if threads == 1 else {"torch_threads": None, "env_kwargs": {"torch_threads": None}}
    tuner = RLTuner("q", "MelodyCompose-v0", n_envs=n_envs, seed=seed, **kwargs)
    previous = torch.get_num_threads()
    start = time.perf_counter()
    tuner.learn(steps)
    seconds = time.perf_counter() - start
    torch.set_num_threads(previous)  # the next measurement starts from the global default whatever learn did
    return tuner.num_timesteps / seconds


def measure(args: Args) -> list[dict[str, object]]:
    """Every measurement of the module docs, idle and loaded.

    :return: one dict per (what, threads): ``what``, ``threads`` (label), ``torch_threads`` (value),
        ``unit``, ``idle``, ``loaded`` (rates) and ``load_idle``, ``load_loaded`` (the 1-minute load
        average when each started).
    """
    rows = {
        (what, label): {"what": what, "threads": label, "torch_threads": SETTINGS[label], "unit": unit}
        for what, unit in ((f"vector env, N = {args.num_envs}", "melody-steps/s"),
                           (f"Q-learning, n_envs = {args.train_envs}, {args.train_steps:,} steps", "env steps/s"))
        for label in SETTINGS
    }  # fmt: skip
    vector_name, train_name = list(dict.fromkeys(what for what, _ in rows))
    for load, busy in LOADS.items():
        with busy_core(busy):
            for label, threads in SETTINGS.items():
                row = rows[vector_name, label]
                row[f"load_{load}"] = os.getloadavg()[0]
                row[load] = vector_rate(threads, args.num_envs, args.vector_steps, args.repeats, args.seed)
            for label, threads in SETTINGS.items():
                row = rows[train_name, label]
                row[f"load_{load}"] = os.getloadavg()[0]
                row[load] = training_rate(threads, args.train_steps, args.train_envs, args.seed)
    return list(rows.values())


def markdown(rows: Sequence[dict[str, object]], argv: Sequence[str], seconds: float) -> list[str]:
    """The report: one table row per measurement, idle and loaded side by side."""
    lines = [
        "# Speed under load: global default threads against one thread",
        "",
        f"Command: `{command('benchmarks.speed.bench_load', argv)}`",
        "",
        f"Machine: {machine()}; shared with other jobs, so timings are noisy. Run took {seconds:.0f} s.",
        "",
        '"idle": nothing added by this benchmark; "loaded": one more process spins in pure Python. The last '
        "column is the 1-minute load average when each measurement started (other jobs count too).",
        "",
        "| what | torch threads | idle | loaded | loaded / idle | load average idle / loaded |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} ({r['unit']}) | {r['threads']} | {r['idle']:,.0f} | {r['loaded']:,.0f} | "
            f"{r['loaded'] / r['idle']:.2f} | {r['load_idle']:.1f} / {r['load_loaded']:.1f} |"
        )
    lines.append("")
    for what in dict.fromkeys(r["what"] for r in rows):
        one, default = ({r["torch_threads"]: r for r in rows if r["what"] == what}[t] for t in (1, None))
        lines.append(
            f"- {what}: one thread is {one['idle'] / default['idle']:.1f}× the global default threads idle, "
            f"{one['loaded'] / default['loaded']:.1f}× loaded."
        )
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.speed.bench_load [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "python -m benchmarks.speed.bench_load"
    try:
        args = parse_dataclass(Args, argv, prog, __doc__.splitlines()[0])
    except ValueError as err:  # a value out of range (parse_dataclass itself exits 2 on bad flags)
        print(f"{prog}: error: {err}; see {prog} --help", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = measure(args)
    write_report(args.out, markdown(rows, argv, time.perf_counter() - start))
    return 0


__all__ = ["LOADS", "SETTINGS", "Args", "busy_core", "main", "markdown", "measure", "training_rate", "vector_rate"]


if __name__ == "__main__":
    raise SystemExit(main())
