"""Run a sweep's trials on Ray Tune: an embedded local Ray by default, or an existing cluster.

Every trial asks Ray for one CPU (``tune.with_resources``) and runs on one torch thread, so a local
Ray runs one trial per core; a worker process takes trial after trial (``reuse_actors``), so torch
is imported once per core, not once per trial. Tune keeps its experiment state and per-trial logs under
``DIR/ray`` (its storage path; Ray's own session files, sockets and process logs stay in Ray's temp
folder, where Unix socket paths fit their 107-byte limit). The results themselves are the trial
folders under ``DIR/trials``, written by :mod:`benchmarks.sweep.trial`: a grid sweep hands Tune only
the trials not yet finished there, so rerunning an interrupted sweep continues it. An Optuna search
resumes through ``Tuner.restore`` (its sampler's state is Tune's). On a cluster of several machines
``DIR`` must be a folder every node can write (a shared filesystem).

A trial whose worker dies (a node lost, a process killed) is retried :data:`MAX_FAILURES` time(s).

Progress: one line when a trial ends and at least every 30 s: trials done and running, the share of
the training steps done (trials report it as they train) and the time left at that pace.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's verbose=0 is silent only with its classic output
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Ray starts its workers at niceness 15, so any other process on the machine (a test run, a browser)
# starves the trials; the embedded Ray runs them at the caller's priority (``nice rl-tuner sweep`` still works).
os.environ.setdefault("RAY_worker_niceness", "0")
import ray
from ray import tune

from benchmarks.sweep.aggregate import STATISTICS
from benchmarks.sweep.grid import SweepConfig, TrialSpec, cell_key
from benchmarks.sweep.trial import run_trial

Write = Callable[[str], None]
MAX_FAILURES = 1
"""Retries of a trial whose worker died or raised: a seed restarts from scratch and writes its files again, and
the seeds it finished before are read back, so a retried trial loses and repeats nothing."""


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def progress_line(done: int, failed: int, running: int, total: int, fraction: float, elapsed: float) -> str:
    """``[sweep] 3/10 trials done, 2 running; 41 % of the work; about 6 min left``.

    :param fraction: share of the whole sweep's work done (0..1); the time left is
        ``elapsed · (1 − fraction) / fraction``, unknown at 0.
    """
    text = f"[sweep] {done}/{total} trials done" + (f" ({failed} failed)" if failed else "") + f", {running} running"
    if fraction <= 0:
        return text + "; time left not known yet"
    left = elapsed * (1 - fraction) / fraction
    return text + f"; {100 * fraction:.0f} % of the work; about {_minutes(left)} left"


def trial_work(config: dict[str, Any]) -> float:
    """The work of a trial, for the time left: env steps plus melodies scored, per seed.

    Scoring a melody (32 notes) takes about as long as one env step of training (gradient steps
    included), so the Note RNN's trials count for little and a tuner's mostly for its training.

    :param config: the trial's Ray Tune config (a grid ``spec`` or an Optuna sample's ``base``).
    """
    part = config.get("spec") or config["base"]
    return float(len(part["seeds"]) * (part["steps"] + part["melodies"]))


class Progress(tune.Callback):
    """Prints :func:`progress_line` when a trial ends and at least every ``every`` seconds.

    :param total: trials in this run. :param total_work: their :func:`trial_work` summed.
    :param every: seconds between two lines while trials run. :param write: where lines go.
    """

    def __init__(self, total: int, total_work: float, every: float = 30.0, write: Write = print) -> None:
        self.total, self.total_work, self.every, self.write = total, total_work, every, write
        self.work: dict[str, float] = {}  # trial id -> work done
        self.done: set[str] = set()
        self.failed: set[str] = set()
        self.start = self.last = time.monotonic()

    def _line(self, trials: list) -> None:
        ended = self.done | self.failed
        running = sum(t.status == "RUNNING" and t.trial_id not in ended for t in trials)
        fraction = min(sum(self.work.values()) / self.total_work, 1.0)
        elapsed = time.monotonic() - self.start
        self.write(progress_line(len(self.done), len(self.failed), running, self.total, fraction, elapsed))
        self.last = time.monotonic()

    def _ended(self, trial: Any, ids: set[str]) -> None:
        ids.add(trial.trial_id)
        self.work[trial.trial_id] = trial_work(trial.config)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.work[trial.trial_id] = float(result.get("fraction", 0.0)) * trial_work(trial.config)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended(trial, self.done)
        self._line(trials)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended(trial, self.failed)
        self._line(trials)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        if time.monotonic() - self.last >= self.every:
            self._line(trials)


def seed_means(results: list[dict[str, Any]]) -> dict[str, float]:
    """Each statistic's mean over a trial's seeds (what a trial reports last; the search's metric is one)."""
    return {name: float(np.nanmean([r["stats"].get(name, np.nan) for r in results])) for name in STATISTICS}


def tune_trial(config: dict[str, Any]) -> None:
    """The Ray Tune trainable: run one trial (a grid's ``spec``, or a spec from Optuna's sample)."""
    spec = TrialSpec.from_dict(config["spec"]) if "spec" in config else sampled_spec(config)
    report = (lambda f: tune.report({"fraction": f})) if "spec" in config else None  # a search needs its metric
    results = run_trial(spec, config["out"], report)
    tune.report({"fraction": 1.0, **seed_means(results)})


def sampled_spec(config: dict[str, Any]) -> TrialSpec:
    """The trial of one Optuna sample: the sampled algorithm, c and hyperparameters, every seed."""
    base = config["base"]
    hyper = dict(config["hyperparameters"])
    varying = {k: hyper[k] for k in base["varying"] if k in hyper}
    key = cell_key(config["algorithm"], config["c"], varying)
    outside = base.get("outside", 0)  # a search restored from before --outside has none
    return TrialSpec(key, config["algorithm"], float(config["c"]), tuple(base["seeds"]), base["steps"],
                     base["melodies"], base["n_envs"], hyper, outside)  # fmt: skip


def search_space(config: SweepConfig) -> dict[str, Any]:
    """Optuna's space: a choice among the listed values of each axis, log-uniform within each ``lo:hi`` range."""

    def axis(values: tuple, name: str) -> Any:
        if name in config.ranges:
            low, high = config.ranges[name]
            if isinstance(low, int) and isinstance(high, int):
                return tune.randint(low, high + 1)
            return tune.loguniform(low, high) if low > 0 else tune.uniform(low, high)
        return tune.choice(list(values)) if len(values) > 1 else values[0]

    axes = config.axes()
    names = [*axes, *(k for k in config.ranges if k != "c" and k not in axes)]
    varying = [k for k in names if k in config.ranges or len(axes.get(k, ())) > 1]
    return {
        "algorithm": tune.choice(list(config.algorithms)) if len(config.algorithms) > 1 else config.algorithms[0],
        "c": axis(config.c, "c"),
        "hyperparameters": {k: axis(axes.get(k, ()), k) for k in names},
        "base": {
            "seeds": list(range(config.seeds)),
            "steps": config.steps,
            "melodies": config.melodies,
            "n_envs": config.n_envs,
            "outside": config.outside,
            "varying": varying,
        },
    }


def _start_ray(address: str | None, cpus: int | None) -> bool:
    """Connect to ``address`` (or ``RAY_ADDRESS``) or start a local Ray; False if Ray was already up."""
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address or os.environ.get("RAY_ADDRESS"):
        address = address or os.environ["RAY_ADDRESS"]
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            raise ValueError(
                f"no Ray cluster answered at {address} ({exc}); check --address, and for a cluster with token "
                "authentication (ray start's default) set RAY_AUTH_MODE=token here"
            ) from exc
    else:
        ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
    return True


def _failures(grid: Any) -> list[str]:
    lines = []
    for result in grid:
        if result.error is not None:
            spec = result.config.get("spec") or {"cell": result.config.get("algorithm"), "seeds": "all"}
            message = str(result.error).strip().splitlines()[-1] if str(result.error).strip() else type(result.error)
            lines.append(f"{spec['cell']} seeds {spec['seeds']}: {message}")
    return lines


def _trial_name(trial: Any) -> str:
    """``q_c=0.5_seeds=0-1_<trial id>``: a grid trial's folder under ``DIR/ray/grid``."""
    spec = trial.config["spec"]
    seeds = spec["seeds"]
    span = f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return f"{spec['cell'].replace('/', '_')}_seeds={span}_{trial.trial_id}"


def _fit(tuner: Any) -> list[str]:
    return _failures(tuner.fit())


def run_on_ray(config: SweepConfig, specs: list[TrialSpec], write: Write = print) -> list[str]:
    """Run the grid trials ``specs``, then (``--search optuna``) the search, on Ray Tune.

    :param config: the sweep (address, CPUs, search, metric). :param specs: the grid's unfinished trials
        (with a search: the Note RNN's).
    :param write: where progress lines go.
    :return: one line per failed trial.
    """
    out = Path(config.out).resolve()
    storage = out / "ray"
    storage.mkdir(parents=True, exist_ok=True)
    (storage / ".gitignore").write_text("# Ray Tune's own state and logs; the results are in ../trials\n*\n")
    started = _start_ray(config.address, config.cpus)
    failed: list[str] = []
    try:
        trainable = tune.with_resources(tune_trial, {"cpu": 1})

        def run_config(name: str, total: int, work: float) -> Any:
            return tune.RunConfig(name=name, storage_path=str(storage), verbose=0,
                                  callbacks=[Progress(total, work, write=write)],
                                  failure_config=tune.FailureConfig(max_failures=MAX_FAILURES))  # fmt: skip

        if specs:
            space = {"out": str(out), "spec": tune.grid_search([s.to_dict() for s in specs])}
            names = tune.TuneConfig(
                trial_name_creator=_trial_name, trial_dirname_creator=_trial_name, reuse_actors=True
            )
            tuner = tune.Tuner(
                trainable,
                param_space=space,
                tune_config=names,
                run_config=run_config("grid", len(specs), sum(trial_work({"spec": x.to_dict()}) for x in specs)),
            )
            failed += _fit(tuner)
        if config.search == "optuna":
            if tune.Tuner.can_restore(storage / "optuna"):
                tuner = tune.Tuner.restore(str(storage / "optuna"), trainable, resume_errored=True)
            else:
                import optuna  # the optuna extra
                from ray.tune.search.optuna import OptunaSearch

                optuna.logging.set_verbosity(optuna.logging.WARNING)

                search = OptunaSearch(metric=config.metric, mode=config.mode, seed=0)
                tune_config = tune.TuneConfig(search_alg=search, num_samples=config.samples, reuse_actors=True)
                space = {"out": str(out), **search_space(config)}
                tuner = tune.Tuner(trainable, param_space=space, tune_config=tune_config,
                                   run_config=run_config("optuna", config.samples,
                                                         config.samples * trial_work(space)))  # fmt: skip
            failed += _fit(tuner)
    finally:
        if started:
            ray.shutdown()
    return failed


__all__ = [
    "MAX_FAILURES",
    "Progress",
    "progress_line",
    "run_on_ray",
    "sampled_spec",
    "search_space",
    "seed_means",
    "trial_work",
    "tune_trial",
]
