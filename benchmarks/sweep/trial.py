"""The trial function: train one cell's seeds, keep each model and its statistics under the sweep folder.

For each seed of a :class:`~benchmarks.sweep.grid.TrialSpec` the trial builds the cell's trainer
(``TRAINERS[algorithm]("MelodyCompose-v0", n_envs=, seed=, env_kwargs={"c": c}, **hyperparameters)``),
trains it with SB3's csv logger writing the training curves (``reward/log_prior``,
``reward/music_theory`` … from :class:`agents.callbacks.TuningStatsCallback`) to ``progress.csv``,
saves ``model.zip``, loads it back and scores it (:func:`benchmarks.sweep.scoring.score_model`).
The most frequent melodies it composed go to ``samples.txt`` (:mod:`benchmarks.sweep.samples`).
``stats.json`` (with the commit the seed ran at, :func:`benchmarks.provenance.code_state`) is written last,
atomically: a seed with that file is finished, and a rerun returns
it without training. A seed interrupted before it restarts from scratch, so that its result is the
same as an uninterrupted run's (a checkpoint does not hold the replay). The seed seeds everything:
the env, exploration, replay sampling (the tuner's ``seed``) and the melodies scored (its melody seed).

The unfinished seeds of an RLTuner cell in one trial (``--seeds-per-trial``) train together as one
:class:`agents.Population` (stacked weights, one batched product for all), on one torch thread; each
member is the run it would be alone with its seed, so the files are the same either way. KL-PPO and
RLOO train seed by seed.

With ``--outside N`` a finished seed also gets ``outside.json`` (:mod:`benchmarks.sweep.outside`), from
its ``model.zip``: a rerun adds it to seeds finished without it, and no seed retrains for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure

from agents import Population, RLTuner
from benchmarks.provenance import code_state
from benchmarks.sweep.grid import ENV_ID, NOTE_RNN, TRAINERS, TrialSpec
from benchmarks.sweep.outside import outside_identity, read_outside, write_outside
from benchmarks.sweep.samples import SAMPLES_FILE
from benchmarks.sweep.scoring import score_model
from melody_env.note_rnn import load_default_note_rnn
from sequence_env.atomic import atomic_write
from sequence_env.threads import torch_threads

Report = Callable[[float], None]
STATS_FILE = "stats.json"
MODEL_FILE = "model.zip"
CURVE_FILE = "progress.csv"


def seed_dir(out: str | Path, cell: str, seed: int) -> Path:
    """Folder of one seed of one cell: ``out/trials/<cell key>/seed_<seed>`` (the key's ``/`` nest folders)."""
    return Path(out) / "trials" / cell / f"seed_{seed}"


def read_result(folder: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The finished result in ``folder``, ``None`` if there is none yet.

    :raises ValueError: the folder holds a result of other settings (same cell, other steps, …).
    """
    path = folder / STATS_FILE
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    if result["identity"] != identity:
        theirs, ours = result["identity"], identity
        diff = ", ".join(f"{k} {theirs.get(k)!r} there, {ours.get(k)!r} now" for k in ours if theirs.get(k) != ours[k])
        raise ValueError(f"{folder} holds a run of other settings ({diff}); rerun with its flags or use another --out")
    return result


class _ReportProgress(BaseCallback):
    """Calls ``report(fraction of this seed's steps)`` about every 5 % of the steps."""

    def __init__(self, report: Report, total: int) -> None:
        super().__init__()
        self.report, self.total, self._next = report, total, 0

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.report(min(self.num_timesteps / self.total, 1.0))
            self._next = self.num_timesteps + max(self.total // 20, 1)
        return True


def _train(spec: TrialSpec, seed: int, folder: Path, report: Report) -> tuple[Any, float]:
    """Train, save and reload one seed's model; return it and the training seconds."""
    build = TRAINERS[spec.algorithm]
    tuner = build(ENV_ID, n_envs=spec.n_envs, seed=seed, env_kwargs={"c": spec.c},
                **spec.hyperparameters)  # fmt: skip
    tuner.set_logger(configure(str(folder), ["csv"]))
    start = time.perf_counter()
    tuner.learn(spec.steps, callback=_ReportProgress(report, spec.steps))
    tuner.dump_logs()  # the means since the last dump (a tiny budget may end before the first one)
    seconds = time.perf_counter() - start
    path = tuner.save(folder / MODEL_FILE)
    return build.func.load(path), seconds


def _saved(spec: TrialSpec, folder: Path) -> Any:
    """The seed's model as saved in ``folder`` (``model.zip``), or the shipped Note RNN for its cell."""
    return load_default_note_rnn() if spec.algorithm == NOTE_RNN else TRAINERS[spec.algorithm].func.load(
        folder / MODEL_FILE)  # fmt: skip


def run_seed(spec: TrialSpec, seed: int, out: str | Path, report: Report | None = None) -> dict[str, Any]:
    """Train (unless the Note RNN) and score one seed of ``spec``, then its outside measures under ``--outside``;
    return what its ``stats.json`` holds.

    :param spec: the trial. :param seed: one of ``spec.seeds``.
    :param out: the sweep folder.
    :param report: called with the fraction of this seed's training done.
    """
    folder = seed_dir(out, spec.cell, seed)
    done = read_result(folder, spec.identity(seed))
    with torch_threads(1):
        model = None  # just trained: the model as reloaded from model.zip; else loaded only if needed
        if done is None:
            folder.mkdir(parents=True, exist_ok=True)
            train_seconds = 0.0
            if spec.algorithm != NOTE_RNN:
                model, train_seconds = _train(spec, seed, folder, report or (lambda fraction: None))
            done = _score(spec, seed, out, model, train_seconds, 1)
        if needs_outside(spec, seed, out):
            model = model if model is not None else _saved(spec, folder)
            write_outside(folder, spec.cell, outside_identity(spec.identity(seed), spec.outside), model)
    return done


def _score(
    spec: TrialSpec, seed: int, out: str | Path, model: Any, train_seconds: float, trained_together: int
) -> dict[str, Any]:
    """Score ``model`` (``None``: the Note RNN) and write the seed's ``stats.json``, atomically; return it."""
    reward_rnn = load_default_note_rnn()
    start = time.perf_counter()
    folder = seed_dir(out, spec.cell, seed)
    stats = score_model(reward_rnn if model is None else model, reward_rnn, spec.melodies, seed, folder / SAMPLES_FILE)
    result = {"cell": spec.cell, "identity": spec.identity(seed), "stats": stats, "train_seconds": train_seconds,
              "trained_together": trained_together, "score_seconds": time.perf_counter() - start,
              "code": code_state()}  # fmt: skip
    with atomic_write(folder / STATS_FILE) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result


def _train_population(spec: TrialSpec, seeds: list[int], out: str | Path, report: Report) -> list[dict[str, Any]]:
    """Train ``seeds`` of an RLTuner cell as one :class:`agents.Population`, then save and score each seed.

    Each member is the run it would be alone with its seed (``agents.population``), so the results
    equal seed-by-seed training; ``train_seconds`` is the population's time divided by its size.
    """
    build = TRAINERS[spec.algorithm]
    folders = [seed_dir(out, spec.cell, seed) for seed in seeds]
    tuners = []
    for seed, folder in zip(seeds, folders, strict=True):
        folder.mkdir(parents=True, exist_ok=True)
        tuner = build(ENV_ID, n_envs=spec.n_envs, seed=seed, env_kwargs={"c": spec.c}, **spec.hyperparameters)
        tuner.set_logger(configure(str(folder), ["csv"]))
        tuners.append(tuner)
    start = time.perf_counter()
    callbacks = [_ReportProgress(report, spec.steps), *([None] * (len(tuners) - 1))]
    Population(tuners).learn(spec.steps, callback=callbacks if len(tuners) > 1 else callbacks[0])
    seconds = (time.perf_counter() - start) / len(tuners)
    results = []
    for seed, folder, tuner in zip(seeds, folders, tuners, strict=True):
        tuner.dump_logs()
        model = build.func.load(tuner.save(folder / MODEL_FILE))
        results.append(_score(spec, seed, out, model, seconds, len(tuners)))
    return results


def run_trial(spec: TrialSpec, out: str | Path, report: Report | None = None) -> list[dict[str, Any]]:
    """Run every seed of ``spec`` (finished ones are read back); ``report`` gets the trial's fraction done.

    An RLTuner cell's unfinished seeds train together as one population; other trainers seed by seed.
    """
    todo = [seed for seed in spec.seeds if read_result(seed_dir(out, spec.cell, seed), spec.identity(seed)) is None]
    if spec.algorithm != NOTE_RNN and len(todo) > 1 and TRAINERS[spec.algorithm].func is RLTuner:
        with torch_threads(1):
            _train_population(spec, todo, out, report or (lambda fraction: None))
    results = []
    n = len(spec.seeds)
    for i, seed in enumerate(spec.seeds):
        scaled = None if report is None else (lambda f, i=i: report((i + f) / n))
        results.append(run_seed(spec, seed, out, scaled))
    return results


def needs_outside(spec: TrialSpec, seed: int, out: str | Path) -> bool:
    """``spec.outside`` is on and the seed has no ``outside.json`` of its identity.

    :raises ValueError: the seed is finished but its ``model.zip``, which the outside measures compose
        with, is gone.
    """
    folder = seed_dir(out, spec.cell, seed)
    if not spec.outside or read_outside(folder, outside_identity(spec.identity(seed), spec.outside)) is not None:
        return False
    if spec.algorithm != NOTE_RNN and (folder / STATS_FILE).exists() and not (folder / MODEL_FILE).exists():
        raise ValueError(
            f"{folder} has a finished seed but no {MODEL_FILE} to compose its --outside melodies with; put its "
            f"{MODEL_FILE} back, or delete {folder / STATS_FILE} to retrain that seed, or rerun without --outside"
        )
    return True


def pending(specs: list[TrialSpec], out: str | Path) -> list[TrialSpec]:
    """The trials with a seed not yet finished in ``out``, or lacking its ``outside.json`` under ``--outside``.

    Checks every seed: finished ones have the same settings, and those needing outside measures a model.
    """

    def todo(spec: TrialSpec, seed: int) -> bool:
        unfinished = read_result(seed_dir(out, spec.cell, seed), spec.identity(seed)) is None
        return needs_outside(spec, seed, out) or unfinished

    return [s for s in specs if any([todo(s, x) for x in s.seeds])]  # a list: every seed is checked


__all__ = [
    "CURVE_FILE",
    "MODEL_FILE",
    "STATS_FILE",
    "needs_outside",
    "pending",
    "read_result",
    "run_seed",
    "run_trial",
    "seed_dir",
]
