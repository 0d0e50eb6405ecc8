"""Ablations of the original implementation's differences across seeds (docs/spec.md §1, §5, §6).

Each *cell* trains the tuners named in it with one switch on (or none), for every seed, and scores
each model as Table 1 does (:func:`benchmarks.evaluate.compose_and_score`, :func:`~benchmarks.evaluate.summarise`;
melodies composed with seed + 1, as ``rl-tuner reproduce`` does). The switches:

- ``per_tensor_clip``: ``RLTuner(..., clip="per_tensor")``, each gradient tensor clipped separately;
- ``bootstrap_last_note``: ``RLTuner(..., bootstrap_last_note=True)``, bootstrapped after the last note;
- ``g_trains_reward_rnn``: ``RLTuner("g", ..., g_trains_reward_rnn=True)``, G's loss moves its prior
  (:mod:`agents.prior_drift`). G's log p is then reported under its own drifted prior as well as under
  the true Note RNN;
- ``labels_original``: the Note RNN trained on data with 0 and 1 swapped
  (``rl-tuner train-note-rnn --labels original``), and Q tuned from it. It is compared with
  ``labels_control``, a Note RNN trained with the paper's labels on the same reduced budget.

The first three are compared with ``default`` (the shipped Note RNN, every switch off). Finished cells are
kept as ``<out>/cells/<cell>.json`` and not rerun. After each cell the report is rebuilt from all finished
cells (:mod:`benchmarks.ablations.report`). Seeds of one cell train in lock-step as one
:class:`agents.population.Population`, the same runs as alone; ``g_trains_reward_rnn`` trains them one by
one.

    nice -n 10 python -m benchmarks.ablations.run --cells default,per_tensor_clip --seeds 3 --steps 200000
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents import RLTuner
from agents.population import Population
from benchmarks.ablations.report import write_report
from benchmarks.args import parse_dataclass, require
from benchmarks.evaluate import compose_and_score, log_prior, summarise
from benchmarks.provenance import code_state, recorded
from benchmarks.timing import machine
from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from sequence_env.atomic import atomic_write
from sequence_env.threads import torch_threads

ENV_ID = "MelodyCompose-v0"


@dataclass(frozen=True)
class Cell:
    """One ablation: which models it trains and samples, with which settings, compared with which cell.

    :param algorithms: tuners trained (one per seed each).
    :param settings: ``RLTuner`` keyword arguments (the switch).
    :param prior: ``"shipped"`` or the ``Args`` field naming a Note RNN checkpoint (``note_rnn_original`` …).
    :param baseline: the cell this one is compared with (``None``: a baseline itself).
    :param note_rnn: also sample the prior itself (the Note RNN column).
    """

    title: str
    algorithms: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    prior: str = "shipped"
    baseline: str | None = None
    note_rnn: bool = False


CELLS: dict[str, Cell] = {
    "default": Cell("every switch off (shipped Note RNN)", ("q", "g"), note_rnn=True),
    "per_tensor_clip": Cell("per-tensor gradient clipping", ("q", "g"), {"clip": "per_tensor"}, baseline="default"),
    "bootstrap_last_note": Cell(
        "the last note bootstrapped", ("q", "g"), {"bootstrap_last_note": True}, baseline="default"
    ),
    "g_trains_reward_rnn": Cell(
        "G's gradients reach the Reward RNN", ("g",), {"g_trains_reward_rnn": True}, baseline="default"
    ),
    "labels_control": Cell("paper labels, reduced budget", ("q",), prior="note_rnn_control", note_rnn=True),
    "labels_original": Cell(
        "the original's data labels (0 and 1 swapped)",
        ("q",),
        prior="note_rnn_original",
        baseline="labels_control",
        note_rnn=True,
    ),
}


@dataclass
class Args:
    """Arguments of the ablation runner (docs/spec.md §6 settings for every tuner)."""

    cells: str = "all"
    """comma-separated cells to run (default, per_tensor_clip, bootstrap_last_note, g_trains_reward_rnn,
    labels_control, labels_original) or 'all'; finished cells are read back"""
    seeds: int = 3
    """training seeds 0 .. seeds-1 per cell"""
    steps: int = 200_000
    """environment steps per tuner"""
    melodies: int = 10_000
    """melodies composed and scored per model and seed"""
    n_envs: int = 64
    """melodies in parallel while training"""
    note_rnn_original: str = "benchmarks/results/ablations/note_rnn_original"
    """the Note RNN trained with --labels original"""
    note_rnn_control: str = "benchmarks/results/ablations/note_rnn_control"
    """the Note RNN trained with --labels paper on the same budget"""
    out: str = "benchmarks/results/ablations"
    """folder of cells/<cell>.json, ablations.md and ablations.json"""
    allow_mixed_commits: bool = False
    """report cells trained at different commits together (the report says so)"""

    def __post_init__(self) -> None:
        for name in ("seeds", "steps", "melodies", "n_envs"):
            require(getattr(self, name) >= 1, name, "a positive integer", getattr(self, name))
        unknown = [c for c in self.cell_names() if c not in CELLS]
        require(not unknown, "cells", f"'all' or names from {', '.join(CELLS)}", self.cells)

    def cell_names(self) -> list[str]:
        """The cells asked for, in :data:`CELLS` order."""
        asked = list(CELLS) if self.cells == "all" else [c.strip() for c in self.cells.split(",") if c.strip()]
        return [c for c in CELLS if c in asked] + [c for c in asked if c not in CELLS]


def load_prior(cell: Cell, args: Args) -> NoteRNN:
    """The Note RNN a cell tunes: the shipped one or the checkpoint its ``prior`` field names."""
    return load_default_note_rnn() if cell.prior == "shipped" else NoteRNN.load(getattr(args, cell.prior))


def train(cell: Cell, algorithm: str, prior: NoteRNN, seeds: Sequence[int], args: Args) -> list[RLTuner]:
    """Train one tuner per seed (a Population of them, or one by one when the prior drifts)."""
    env_kwargs = None if cell.prior == "shipped" else {"checkpoint": prior}
    tuners = [
        RLTuner(algorithm, ENV_ID, n_envs=args.n_envs, seed=s, env_kwargs=env_kwargs, **cell.settings) for s in seeds
    ]
    if tuners[0].prior_drift is not None:
        for tuner in tuners:
            tuner.learn(args.steps)
    else:
        Population(tuners).learn(args.steps)
    return tuners


def score(model: RLTuner | NoteRNN, prior: NoteRNN, n: int, seed: int) -> dict[str, float]:
    """Table 1 statistics of ``n`` melodies (seed + 1), log p under ``prior``; a drifted G adds its own log p."""
    scored = compose_and_score(model, prior, n, seed=seed + 1)
    stats = summarise(scored)
    if isinstance(model, RLTuner) and model.prior_drift is not None:
        own = log_prior(model.networks.reward_rnn, scored.primers, scored.melodies)
        stats["mean_log_prior_own"] = float(own.mean())
    return stats


def identity(cell: Cell, args: Args) -> dict[str, Any]:
    """What makes a finished cell valid for this command: its settings and budget."""
    prior = "shipped" if cell.prior == "shipped" else getattr(args, cell.prior)
    budget = {"seeds": list(range(args.seeds)), "steps": args.steps, "melodies": args.melodies, "n_envs": args.n_envs}
    return {"algorithms": list(cell.algorithms), "settings": cell.settings, "prior": prior, **budget}


def run_cell(name: str, args: Args, command: str) -> dict[str, Any]:
    """Train and score one cell (or read it back when finished with the same settings); write its JSON."""
    cell, path = CELLS[name], Path(args.out) / "cells" / f"{name}.json"
    wanted = identity(cell, args)
    if path.exists():
        done = json.loads(path.read_text())
        if done["identity"] == wanted:
            return done
        raise ValueError(f"{path} holds a run of other settings ({done['identity']}); delete it or use another --out")
    seeds = wanted["seeds"]
    prior = load_prior(cell, args)
    models, seconds = {}, {}
    if cell.note_rnn:
        models["note_rnn"] = {str(s): score(prior, prior, args.melodies, s) for s in seeds}
    for algorithm in cell.algorithms:
        wall, cpu = time.perf_counter(), time.process_time()
        tuners = train(cell, algorithm, prior, seeds, args)
        seconds[algorithm] = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        models[algorithm] = {str(s): score(t, prior, args.melodies, s) for s, t in zip(seeds, tuners, strict=True)}
        print(f"{name}/{algorithm}: {len(seeds)} seeds in {seconds[algorithm]['wall'] / 60:.1f} min", flush=True)
    result = {"cell": name, "title": cell.title, "baseline": cell.baseline, "identity": wanted, "command": command,
              "machine": machine(), "code": code_state(), "train_seconds": seconds, "models": models}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cells asked for, then rebuild ``ablations.md`` and ``ablations.json`` from every finished cell."""
    args = parse_dataclass(Args, argv, "python -m benchmarks.ablations.run", __doc__.splitlines()[0])
    command = "python -m benchmarks.ablations.run " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    with torch_threads(1), recorded(args.out, command):
        for name in args.cell_names():
            run_cell(name, args, command)
            write_report(Path(args.out), args.allow_mixed_commits)
    print(f"wrote {Path(args.out) / 'ablations.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
