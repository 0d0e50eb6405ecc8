"""What a sweep runs: its settings, the trainer of each algorithm, and the trials of the grid.

A sweep crosses algorithms × c × seeds × the values of each extra axis (exploration, any tuner
hyperparameter set with ``--set name=v1,v2``). A *cell* is one point of that grid without the seed;
its key is ``"<algorithm>/c=<c>"`` followed by ``"/<name>=<value>"`` for every extra axis that has
more than one value (fixed overrides are the same in every cell and are listed in the settings). A
*trial* is one Ray Tune trial: one cell and ``seeds_per_trial`` of its seeds, trained one after the
other now, or as one population later. The Note RNN baseline is a cell of its own (``"note_rnn"``):
it is not trained, only sampled with each seed's melody seed.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from agents import KLPPO, RLTuner
from benchmarks.sweep.aggregate import STATISTICS

ENV_ID = "MelodyCompose-v0"
NOTE_RNN = "note_rnn"
TRAINERS: dict[str, partial] = {
    "q": partial(RLTuner, "q"),
    "psi": partial(RLTuner, "psi"),
    "g": partial(RLTuner, "g"),
    "rl_only": partial(RLTuner, "rl_only"),
    "kl_ppo": partial(KLPPO, "NoteRNNPolicy", algorithm="ppo"),
    "rloo": partial(KLPPO, "NoteRNNPolicy", algorithm="rloo"),
}
"""Algorithm name → how to build its trainer: ``TRAINERS[name](ENV_ID, n_envs=, seed=, env_kwargs={"c": c},
**hyperparameters)``. The class (``.func``) has ``learn``, ``save``, ``load`` and ``generate``. Adding an
algorithm is one line here. The off-policy tuners' seeds of one trial train together as one
:class:`agents.Population` (``--seeds-per-trial``); KL-PPO and RLOO train seed by seed."""
RESERVED = ("algorithm", "policy", "env", "n_envs", "seed", "env_kwargs", "note_rnn", "nan_checkpoint_path",
            "tensorboard_log", "verbose", "torch_threads", "exploration")  # fmt: skip
"""Constructor arguments the sweep sets itself (or through its own flag), so ``--set`` may not."""
SEARCHES = ("grid", "optuna")

Value = bool | int | float | str


def format_value(value: Value) -> str:
    """``value`` as it appears in a cell key: floats in shortest form (``0.5``, ``1``, ``0.001``)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_value(text: str) -> Value:
    """``"1e-3"`` → 1e-3, ``"64"`` → 64, ``"true"`` / ``"false"`` → bool, anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def tuner_parameters(algorithm: str) -> list[str]:
    """What ``--set`` may change for ``algorithm``: its trainer's keyword arguments less :data:`RESERVED`."""
    trainer = TRAINERS[algorithm]
    fixed = (*RESERVED, *trainer.keywords, "self", "args", "kwargs")
    return [name for name in inspect.signature(trainer.func.__init__).parameters if name not in fixed]


@dataclass(frozen=True)
class SweepConfig:
    """Settings of one sweep (the CLI's flags). Defaults: docs/spec.md §6 hyperparameters at a 200k-step budget.

    :param algorithms: trainers to run (keys of :data:`TRAINERS`).
    :param c: values of c, the weight of the rules in r = log p(a|s) + rMT/c (docs/spec.md §5).
    :param seeds: seeds 0 .. seeds − 1 per cell.
    :param steps: environment steps per tuner.
    :param melodies: melodies composed and scored per trained model, as Table 1 (docs/spec.md §7).
    :param outside: melodies per model and seed given to the outside measures (:mod:`benchmarks.sweep.outside`;
        0: none). Not part of a seed's ``stats.json`` identity, so it can be added to a finished sweep.
    :param n_envs: melodies composed in parallel while training.
    :param exploration: ``"egreedy"`` and/or ``"boltzmann"``; empty: the trainer's default.
    :param hyperparameters: trainer keyword → values; more than one value makes it a grid axis.
    :param ranges: ``"c"`` or a trainer keyword → ``(low, high)`` that ``optuna`` samples (log-uniform
        for positive floats, uniform otherwise, any integer for two ints).
    :param out: folder of every output; rerunning the same sweep in it resumes.
    :param address: an existing Ray cluster (``None``: ``RAY_ADDRESS`` if set, else an embedded local Ray).
    :param cpus: CPUs of the embedded local Ray (``None``: all); one trial per CPU.
    :param seeds_per_trial: seeds of one cell trained within one trial.
    :param search: ``"grid"`` (every cell) or ``"optuna"`` (Optuna samples the cell, each trial trains every seed).
    :param samples: trials sampled by ``optuna``.
    :param metric: statistic the search optimises (its mean over the seeds of a trial).
    :param mode: ``"max"`` or ``"min"`` of ``metric``.
    :param allow_mixed_commits: report seeds trained at different commits together (the report says so).
    """

    algorithms: tuple[str, ...] = tuple(TRAINERS)
    c: tuple[float, ...] = (0.5,)
    seeds: int = 5
    steps: int = 200_000
    melodies: int = 10_000
    outside: int = 0
    n_envs: int = 64
    exploration: tuple[str, ...] = ()
    hyperparameters: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    out: str = "runs/sweep"
    address: str | None = None
    cpus: int | None = None
    seeds_per_trial: int = 1
    search: str = "grid"
    samples: int = 10
    metric: str = "mean_log_prior"
    mode: str = "max"
    allow_mixed_commits: bool = False

    def __post_init__(self) -> None:
        unknown = [a for a in self.algorithms if a not in TRAINERS]
        if not self.algorithms or unknown:
            raise ValueError(f"--algorithms: unknown {unknown or 'none given'}; choose from {','.join(TRAINERS)}")
        if not self.c or any(not c > 0 for c in self.c):
            raise ValueError(f"--c: every c must be > 0 (r = log p + rMT/c), got {list(self.c)}")
        for name in ("seeds", "steps", "melodies", "n_envs", "seeds_per_trial", "samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        if isinstance(self.outside, bool) or not isinstance(self.outside, int) or self.outside < 0:
            raise ValueError(f"--outside must be a non-negative integer (0: no outside measures), got {self.outside!r}")
        bad = [e for e in self.exploration if e not in ("egreedy", "boltzmann")]
        if bad:
            raise ValueError(f"--exploration: unknown {bad}; choose egreedy and/or boltzmann")
        for name, values in [*self.hyperparameters.items(), *((k, r) for k, r in self.ranges.items() if k != "c")]:
            if name in RESERVED:
                raise ValueError(f"--set {name}: the sweep sets it; use --seeds, --c, --n-envs or --exploration")
            for algorithm in self.algorithms:
                if name not in tuner_parameters(algorithm):
                    raise ValueError(
                        f"--set {name}: {TRAINERS[algorithm].func.__name__} ({algorithm}) has no such hyperparameter; "
                        f"choose from {', '.join(tuner_parameters(algorithm))}"
                    )
            if not values:
                raise ValueError(f"--set {name}: give at least one value, e.g. --set {name}=1e-3")
        if self.search not in SEARCHES:
            raise ValueError(f"--search must be one of {', '.join(SEARCHES)}, got {self.search!r}")
        if self.ranges and self.search != "optuna":
            raise ValueError(f"ranges ({', '.join(self.ranges)}) are sampled by a search: add --search optuna")
        bad_ranges = [k for k, (low, high) in self.ranges.items() if not low < high or (k == "c" and low <= 0)]
        if bad_ranges:
            raise ValueError(f"ranges of {', '.join(bad_ranges)} need low < high (and c > 0), e.g. --c 0.1:5")
        if self.address is not None and self.cpus is not None:
            raise ValueError("--cpus sizes the local Ray; a cluster (--address) has its own CPUs: drop one of them")
        if self.metric not in STATISTICS:
            raise ValueError(f"--metric must be one of {', '.join(STATISTICS)}, got {self.metric!r}")
        if self.mode not in ("max", "min"):
            raise ValueError(f"--mode must be max or min, got {self.mode!r}")

    def axes(self) -> dict[str, tuple[Value, ...]]:
        """The extra grid axes: exploration (if given) then each hyperparameter, name → values."""
        axes: dict[str, tuple[Value, ...]] = {}
        if self.exploration:
            axes["exploration"] = tuple(self.exploration)
        axes.update({k: tuple(v) for k, v in self.hyperparameters.items()})
        return axes

    def settings(self) -> dict[str, Any]:
        """The settings as JSON-ready data (for ``summary.json``)."""
        data = asdict(self)
        data["hyperparameters"] = {k: list(v) for k, v in self.hyperparameters.items()}
        data["ranges"] = {k: list(v) for k, v in self.ranges.items()}
        return data


@dataclass(frozen=True)
class TrialSpec:
    """One Ray Tune trial: a cell and the seeds it trains.

    :param cell: the cell key (see the module docs).
    :param algorithm: a key of :data:`TRAINERS`, or :data:`NOTE_RNN` for the baseline.
    :param c: the weight c (``None`` for the Note RNN).
    :param seeds: seeds trained in this trial.
    :param steps: environment steps per tuner (0 for the Note RNN).
    :param melodies: melodies scored per seed.
    :param n_envs: melodies in parallel while training.
    :param hyperparameters: trainer keyword arguments (exploration included when set).
    :param outside: melodies per seed for the outside measures (0: none); not part of :meth:`identity`.
    """

    cell: str
    algorithm: str
    c: float | None
    seeds: tuple[int, ...]
    steps: int
    melodies: int
    n_envs: int
    hyperparameters: Mapping[str, Value]
    outside: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what Ray Tune's config carries)."""
        return {**asdict(self), "seeds": list(self.seeds), "hyperparameters": dict(self.hyperparameters)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "seeds": tuple(data["seeds"]), "hyperparameters": dict(data["hyperparameters"])})

    def identity(self, seed: int) -> dict[str, Any]:
        """What determines the result of ``seed`` in this cell (stored with it, compared on resume)."""
        if self.algorithm == NOTE_RNN:
            return {"algorithm": NOTE_RNN, "seed": seed, "melodies": self.melodies}
        return {
            "algorithm": self.algorithm,
            "c": self.c,
            "seed": seed,
            "steps": self.steps,
            "melodies": self.melodies,
            "n_envs": self.n_envs,
            "hyperparameters": dict(self.hyperparameters),
        }


def cell_key(algorithm: str, c: float | None, varying: Mapping[str, Value]) -> str:
    """``"<algorithm>/c=<c>"`` plus ``"/<name>=<value>"`` per varying axis; ``"note_rnn"`` for the baseline."""
    if algorithm == NOTE_RNN:
        return NOTE_RNN
    return "/".join([algorithm, f"c={format_value(float(c))}", *(f"{k}={format_value(v)}" for k, v in varying.items())])


def _chunks(seeds: Sequence[int], size: int) -> list[tuple[int, ...]]:
    return [tuple(seeds[i : i + size]) for i in range(0, len(seeds), size)]


def grid_trials(config: SweepConfig) -> list[TrialSpec]:
    """Every trial of the grid: the Note RNN's first, then seed by seed over c, algorithms and axes.

    Seeds lead the order so that an interrupted sweep has its first seeds in every cell.
    """
    axes = config.axes()
    varying = [name for name, values in axes.items() if len(values) > 1]
    seeds = list(range(config.seeds))
    trials = [TrialSpec(NOTE_RNN, NOTE_RNN, None, group, 0, config.melodies, config.n_envs, {}, config.outside)
              for group in _chunks(seeds, config.seeds_per_trial)]  # fmt: skip
    for group in _chunks(seeds, config.seeds_per_trial):
        for c, algorithm, *point in itertools.product(config.c, config.algorithms, *axes.values()):
            values = dict(zip(axes, point, strict=True))
            key = cell_key(algorithm, c, {k: values[k] for k in varying})
            spec = TrialSpec(key, algorithm, float(c), group, config.steps, config.melodies, config.n_envs, values,
                             config.outside)  # fmt: skip
            trials.append(spec)
    return trials


__all__ = [
    "ENV_ID",
    "NOTE_RNN",
    "RESERVED",
    "SEARCHES",
    "TRAINERS",
    "SweepConfig",
    "TrialSpec",
    "Value",
    "cell_key",
    "format_value",
    "grid_trials",
    "parse_value",
    "tuner_parameters",
]
