"""Reusing finished tuners when ``rl-tuner reproduce`` runs again on the same ``--out``.

A tuner under ``out/models`` (``<algorithm>.zip`` with its ``<algorithm>.json`` record) is reused
only if it was trained with the settings asked for now, and at the commit of the code running now (its
record's ``code``, unless ``--allow-mixed-commits``); otherwise the run stops with one line naming the
difference. What the results say about training comes from the saved tuners themselves: their
``num_timesteps`` (``--steps`` rounded up to whole rounds of ``--n-envs`` melodies) and the training
time recorded when they were trained, marked as reused.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents import RLTuner
from benchmarks.page import MODEL_TITLES
from benchmarks.provenance import code_state


class SettingsError(ValueError):
    """The settings asked for cannot be run: a bad flag, or reused tuners trained otherwise."""


@dataclass(frozen=True)
class Training:
    """How a tuner under ``out/models`` came to be: its training wall time, and whether this run reused it."""

    seconds: float
    reused: bool


@dataclass(frozen=True)
class Asked:
    """The training settings a run asks for, which a reused tuner must have been trained with."""

    steps: int
    """env steps per tuner (``--steps`` or the scale's)"""
    n_envs: int
    """melodies composed in parallel (``--n-envs``)"""
    seed: int
    """seed of training (``--seed``)"""
    c: float
    """weight c of the music-theory reward (``--c``)"""


def planned_timesteps(steps: int, n_envs: int) -> int:
    """Env steps ``learn(steps)`` takes with ``n_envs`` melodies in parallel: whole rounds of ``n_envs``.

    :param steps: the steps asked for (``--steps``).
    :param n_envs: melodies composed in parallel (``--n-envs``).
    """
    return -(-steps // n_envs) * n_envs


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def reuse_mismatches(tuner: RLTuner, record: Mapping, asked: Asked) -> list[str]:
    """How a saved tuner's settings differ from the ones asked for (empty: it can be reused).

    :param tuner: the saved tuner, loaded.
    :param record: its ``models/<algorithm>.json`` (holds ``c`` when written by this version; an older
        record without it is taken to have the ``c`` asked for).
    :param asked: the settings asked for.
    """
    settings = {
        "env steps": (tuner.num_timesteps, planned_timesteps(asked.steps, asked.n_envs), f"--steps {asked.steps}"),
        "melodies in parallel": (tuner.n_envs, asked.n_envs, "--n-envs"),
        "seed": (tuner.seed, asked.seed, "--seed"),
        "ε ramp steps": (tuner.exploration_steps, asked.steps // 2, f"--steps {asked.steps}"),
        "c": (record.get("c", asked.c), asked.c, "--c"),
    }
    return [
        f"{what}: trained with {_number(saved)}, asked {_number(wanted)} ({flag})"
        for what, (saved, wanted, flag) in settings.items()
        if saved != wanted
    ]


def check_reused(algorithms: Sequence[str], asked: Asked, models: Path, allow_mixed: bool = False) -> list[str]:
    """The tuners of ``algorithms`` already finished in the folder ``models``, checked against ``asked``.

    :param allow_mixed: reuse tuners trained at another commit (a record without one is reused with a note).
    :raises SettingsError: a finished tuner was trained with other settings or at another commit (the message
        names them).
    :return: the algorithms whose tuners will be reused.
    """
    reused = []
    for algorithm in algorithms:
        record_path, model_path = models / f"{algorithm}.json", models / f"{algorithm}.zip"
        if not (record_path.exists() and model_path.exists()):
            continue
        record = json.loads(record_path.read_text())
        mismatches = reuse_mismatches(RLTuner.load(model_path), record, asked)
        if mismatches:
            raise SettingsError(
                f"{model_path} was trained with other settings ({'; '.join(mismatches)}): pass the settings it was"
                " trained with to reuse it, or another --out to train new tuners"
            )
        if "c" not in record:
            print(f"[reproduce] {record_path} does not record c (older version): assuming c = {asked.c}", flush=True)
        commit, now = record.get("code", {}).get("commit"), code_state()["commit"]
        if commit is None:
            print(f"[reproduce] {record_path} does not record its commit (older version)", flush=True)
        elif commit != now and not allow_mixed:
            raise SettingsError(
                f"{model_path} was trained at commit {commit[:12]}, the code now is {now[:12]}: delete it to retrain, "
                "or pass --allow-mixed-commits to reuse it"
            )
        reused.append(algorithm)
    return reused


def steps_label(training_steps: Mapping[str, int]) -> str:
    """The env steps the tuners took, for the table and the page: one number when they agree.

    :param training_steps: algorithm -> the saved tuner's ``num_timesteps``.
    """
    if not training_steps:
        return "no tuners"
    if len(set(training_steps.values())) == 1:
        return f"{next(iter(training_steps.values())):,} env steps per tuner"
    return "env steps " + ", ".join(f"{MODEL_TITLES[a]} {n:,}" for a, n in training_steps.items())


def timing_label(wall_seconds: float, training_seconds: Mapping[str, float], reused: Collection[str]) -> str:
    """This run's wall time, then each tuner's training time, saying which tuners were reused.

    :param wall_seconds: this run's wall time.
    :param training_seconds: algorithm -> training seconds (of an earlier run for reused tuners).
    :param reused: the algorithms whose tuners this run reused.
    """
    trained = [f"{MODEL_TITLES[a]} {t / 60:.1f} min" for a, t in training_seconds.items() if a not in reused]
    kept = [a for a in training_seconds if a in reused]
    parts = [f"training: {', '.join(trained)}"] if trained else []
    if kept:
        earlier = ", ".join(f"{training_seconds[a] / 60:.1f}" for a in kept)
        names = ", ".join(MODEL_TITLES[a] for a in kept)
        parts.append(f"reused, not retrained: {names}; their earlier training took {earlier} min")
    return f"{wall_seconds / 60:.1f} min" + (f" ({'; '.join(parts)})" if parts else "")


__all__ = [
    "Asked",
    "SettingsError",
    "Training",
    "check_reused",
    "planned_timesteps",
    "reuse_mismatches",
    "steps_label",
    "timing_label",
]
