"""Sweeps side by side: ``python -m benchmarks.sweep.compare --sweeps A,B --out DIR`` (or ``rl-tuner compare``).

Each sweep folder is one ``rl-tuner sweep`` (:mod:`benchmarks.sweep`): its ``summary.json`` holds every
cell's statistics over seeds. This report puts the algorithms of each sweep in one table — mean log p,
mean rMT, the policy's KL to the prior, distinct melodies, three Table 1 statistics, training time and
the c each seed ended with — with 95 % t-intervals over seeds. For every pair of algorithms it gives the
probability of improvement on log p and rMT (the chance that a random seed of one beats a random seed of the
other) with its interval, and tests the difference: exact Mann–Whitney and Welch p-values, Holm-adjusted
over the comparisons of that sweep's table (:mod:`benchmarks.sweep.differences`); a difference is worded as
a claim only where the adjusted Mann–Whitney p-value is below 0.05. Sweeps whose seeds were trained at
different commits are refused unless ``--allow-mixed-commits``, and the report then says so.
The figure draws mean log p against mean rMT per algorithm and
sweep, each seed as a dot. Run on a sweep at fixed c and one with ``--set c=auto --set target_kl=…``, it
compares the algorithms at the same c and at matched KL (the comparison of docs/spec.md §5's objective
across the off-policy tuners and the KL-regularised policy gradient, :class:`agents.KLPPO`).

Writes ``comparison.json``, ``comparison.md`` and ``logp_vs_rmt.png`` under ``--out``, atomically.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.args import parse_dataclass
from benchmarks.figures import _pyplot, _save
from benchmarks.provenance import check_one_commit, mixed_note, recorded
from benchmarks.sweep.aggregate import BETTER, probability_of_improvement, statistic_summary
from benchmarks.sweep.differences import compare, family
from benchmarks.sweep.grid import NOTE_RNN
from benchmarks.sweep.report import cell_title, differences_table
from benchmarks.sweep.trial import CURVE_FILE, seed_dir
from sequence_env.atomic import atomic_write

COLUMNS = ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior", "distinct_melodies", "notes_not_in_key",
           "notes_excessively_repeated", "leaps_resolved")  # fmt: skip
"""Statistics of the table (every Table 1 statistic is in each sweep's own ``table1.md``)."""
OUTSIDE = {"outside_overlap_area": "rule_free_overlap_area", "outside_key_share": "key_share"}
"""Columns from the sweep's outside measures (``--outside``), when it has them: the mean overlapping area with the
held-out tunes on the rule-free features, and music21's share of melodies in C major or A minor (docs/spec.md §9)."""
PAIRED = ("mean_log_prior", "mean_music_theory_reward")
"""Statistics of the pairwise probabilities of improvement."""
_PLAIN = ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior")
_LABELS = {"mean_log_prior": "log p(a\\|s)", "mean_music_theory_reward": "rMT per note",
           "kl_to_prior": "KL (nats/note)", "distinct_melodies": "distinct melodies", "notes_not_in_key": "not in key",
           "notes_excessively_repeated": "excessively repeated", "leaps_resolved": "leaps resolved"}  # fmt: skip


@dataclass
class Args:
    """Settings of ``rl-tuner compare``."""

    sweeps: str = "benchmarks/results/kl_pg/fixed_c,benchmarks/results/kl_pg/matched_kl"
    """comma-separated sweep folders (each with a summary.json)"""
    out: str = "benchmarks/results/kl_pg"
    """folder of comparison.json, comparison.md and logp_vs_rmt.png"""
    allow_mixed_commits: bool = False
    """compare sweeps whose seeds were trained at different commits (the report says so)"""


def sweep_label(settings: Mapping[str, Any]) -> str:
    """How a sweep is named in the report: ``"c = 0.5"``, or ``"c auto, target KL 0.5 nats/note"`` for an adaptive c.

    :param settings: ``summary.json``'s settings; ``--set`` values are lists (one value: a fixed override).
    """
    overrides = {k: v if isinstance(v, list) else [v] for k, v in settings.get("hyperparameters", {}).items()}
    if overrides.get("c") == ["auto"]:
        targets = ", ".join(f"{t:g}" for t in overrides.get("target_kl", [1.0]))
        return f"c auto, target KL {targets} nats/note"
    return "c = " + ", ".join(f"{c:g}" for c in settings["c"])


def last_logged(path: Path, column: str) -> float | None:
    """The last value of ``column`` in an SB3 ``progress.csv`` (``None`` without the file or the column)."""
    if not path.exists():
        return None
    value = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get(column) not in (None, ""):
                value = float(row[column])
    return value


def final_values(folder: Path, cell: str, seeds: Sequence[int], column: str) -> list[float]:
    """Per seed of ``cell``, the last ``column`` value of its training log (NaN where it has none)."""
    values = [last_logged(seed_dir(folder, cell, s) / CURVE_FILE, column) for s in seeds]
    return [math.nan if v is None else v for v in values]


def algorithm_of(cell: str) -> str:
    """The algorithm of a cell key (``"kl_ppo/c=0.5"`` → ``"kl_ppo"``)."""
    return cell.split("/")[0]


def kl_control_objective(stats: Mapping[str, Any], c: Sequence[float]) -> list[float]:
    """Per seed, the KL-control objective per note (paper Eq. 9, docs/spec.md §5): ``rMT / c − KL[π ‖ p]``.

    :param stats: a cell's statistics (``mean_music_theory_reward`` and ``kl_to_prior`` per seed).
    :param c: each seed's c (its last logged ``train/c``; NaN where unknown gives NaN).
    """
    rules, kl = stats["mean_music_theory_reward"]["per_seed"], stats["kl_to_prior"]["per_seed"]
    return [math.nan if None in (r, k) else r / ci - k for r, k, ci in zip(rules, kl, c, strict=True)]


def compare_sweep(folder: str | Path) -> dict[str, Any]:
    """One sweep's rows: per cell the :data:`COLUMNS` summaries, training seconds and final c, and the pairs.

    :param folder: a sweep folder with ``summary.json``.
    :raises ValueError: the folder has no summary (the sweep has not run there).
    """
    folder = Path(folder)
    path = folder / "summary.json"
    if not path.exists():
        raise ValueError(f"{folder} has no summary.json; run `rl-tuner sweep ... --out {folder}` first")
    summary = json.loads(path.read_text())
    cells = {}
    for key, cell in summary["cells"].items():
        row = {name: statistic_summary(_values(cell["stats"][name]["per_seed"])) for name in COLUMNS}
        row["train_seconds"] = statistic_summary(summary["train_seconds"][key])
        outside = summary.get("outside", {}).get("cells", {}).get(key)
        for name, source in OUTSIDE.items():
            if outside is not None:
                row[name] = outside[source]
        final_c = final_values(folder, key, cell["seeds"], "train/c")
        row["final_c"] = statistic_summary(final_c)
        if key != NOTE_RNN:
            row["objective"] = statistic_summary(kl_control_objective(cell["stats"], final_c))
        cells[key] = {"n_seeds": cell["n_seeds"], "seeds": cell["seeds"], "rows": row}
    return {"folder": str(folder), "label": sweep_label(summary["settings"]), "command": summary["command"],
            "commits": sweep_commits(summary), "cells": cells, "pairs": pairwise(summary["cells"]),
            "tests": tests(summary["cells"])}  # fmt: skip


def _values(per_seed: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in per_seed]


def sweep_commits(summary: Mapping[str, Any]) -> dict[str, int]:
    """Commit → seeds trained at it, from ``summary.json`` (``"unknown"`` for a summary that does not record it)."""
    return dict(summary.get("commits") or {"unknown": sum(c["n_seeds"] for c in summary["cells"].values())})


def tests(cells: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every pair of trained cells on each of :data:`PAIRED`: :func:`benchmarks.sweep.differences.compare`, one Holm
    family for the sweep."""
    trained = [k for k in cells if k != NOTE_RNN]
    rows = []
    for name in PAIRED:
        for i, a in enumerate(trained):
            for b in trained[i + 1 :]:
                x, y = cells[a]["stats"][name]["per_seed"], cells[b]["stats"][name]["per_seed"]
                rows.append({"statistic": name, "a": a, "b": b, **compare(x, y, BETTER[name])})
    return family(rows)


def pairwise(cells: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """``pairs[statistic][a][b]``: P(a random seed of cell a beats one of cell b) on ``statistic``, trained cells."""
    trained = [k for k in cells if k != NOTE_RNN]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in PAIRED:
        per_seed = {k: [v for v in cells[k]["stats"][name]["per_seed"] if v is not None] for k in trained}
        out[name] = {a: {b: probability_of_improvement(per_seed[a], per_seed[b], BETTER[name])
                         for b in trained if b != a} for a in trained}  # fmt: skip
    return out


def _fmt(name: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if name in _PLAIN or name in ("final_c", "objective", "outside_overlap_area"):
        return f"{value:.3f}"
    if name == "train_seconds":
        return f"{value:.0f} s"
    return f"{100 * value:.2f} %"


def _cell_text(name: str, entry: Mapping[str, Any]) -> str:
    if entry["mean"] is None:
        return "—"
    if entry.get("t_ci") is None:
        return _fmt(name, entry["mean"])
    low, high = entry["t_ci"]
    return f"{_fmt(name, entry['mean'])} [{_fmt(name, low)}, {_fmt(name, high)}]"


def markdown(sweeps: Sequence[Mapping[str, Any]]) -> str:
    """The report: one table per sweep (cells as rows), then its pairwise probabilities of improvement."""
    columns = (*COLUMNS, *OUTSIDE, "objective", "train_seconds", "final_c")
    labels = {**_LABELS, "outside_overlap_area": "outside: OA, rule-free", "outside_key_share": "outside: in C/Am",
              "objective": "rMT/c − KL (Eq. 9)", "train_seconds": "training time per seed",
              "final_c": "c at the end"}  # fmt: skip
    lines = ["# Sweeps side by side", ""]
    lines += [
        "Mean over seeds [95 % Student t-interval]; the seeds column gives how many. log p(a|s) under "
        "the Note RNN and rMT per note of 100,000 composed melodies per seed (as the sweep's settings say), KL "
        "per note of the policy to the Note RNN along its own melodies. Training time: wall seconds on one torch "
        "thread per seed (seeds trained together as one population share it equally). c at the end: the last "
        "`train/c` of each seed's training log (a fixed c stays where it was set). rMT/c − KL: the KL-control "
        "objective per note that Ψ, G, KL-PPO and RLOO maximise (paper Eq. 9; Q and RL-only maximise others), with "
        "each seed's final c; the off-policy tuners discount it with γ = 0.5, the policy-gradient agents do not "
        "discount within a melody. Outside (with `rl-tuner sweep --outside N`, docs/spec.md §9): the mean "
        "overlapping area with held-out real tunes over the features no rule measures (two halves of the real "
        "tunes reach the value in the sweep's `outside.md`), and music21's share of melodies analysed in C major "
        "or A minor. Every Table 1 statistic of "
        "each sweep is in its folder's `table1.md`.",
        "",
    ]
    commits: dict[str, int] = {}
    for sweep in sweeps:
        for commit, n in sweep["commits"].items():
            commits[commit] = commits.get(commit, 0) + n
    if mixed_note(commits):
        lines += [mixed_note(commits), ""]
    for sweep in sweeps:
        lines += [f"## {sweep['label']}", "", f"Command: `{sweep['command']}`", ""]
        lines.append("| model | seeds | " + " | ".join(labels[c] for c in columns) + " |")
        lines.append("|---|---|" + "---|" * len(columns))
        for key, cell in sweep["cells"].items():
            shown = [c for c in columns if c in cell["rows"] and (c in (*COLUMNS, *OUTSIDE) or key != NOTE_RNN)]
            texts = [_cell_text(c, cell["rows"][c]) if c in shown else "—" for c in columns]
            lines.append(f"| {cell_title(key)} | {cell['n_seeds']} | " + " | ".join(texts) + " |")
        for name in PAIRED:
            pairs = sweep["pairs"][name]
            keys = list(pairs)
            lines += ["", f"P(row beats column) on {labels[name]} (seed pairs, ties ½):", ""]
            lines.append("| | " + " | ".join(cell_title(k) for k in keys) + " |")
            lines.append("|---|" + "---|" * len(keys))
            for a in keys:
                row = ["—" if a == b else f"{pairs[a][b]:.2f}" for b in keys]
                lines.append(f"| {cell_title(a)} | " + " | ".join(row) + " |")
        if sweep["tests"]:
            lines += ["", "Tests of differences between the algorithms:", "", *differences_table(sweep["tests"])]
        lines.append("")
    return "\n".join(lines)


def plot_logp_vs_rmt(sweeps: Sequence[Mapping[str, Any]], summaries: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """One panel per sweep: mean log p against mean rMT, a dot per seed, the mean with its intervals per cell."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(sweeps), figsize=(6 * len(sweeps), 4.8), squeeze=False, sharey=True)
    colours: dict[str, str] = {}
    for ax, sweep, summary in zip(axes[0], sweeps, summaries, strict=True):
        labelled: set[str] = set()
        for key, cell in summary["cells"].items():
            if key == NOTE_RNN:  # far from every tuner (rMT about −10): named in the title, not drawn
                continue
            stats = {k: statistic_summary(_values(v["per_seed"])) for k, v in cell["stats"].items() if k in COLUMNS}
            lp, mt, kl = stats["mean_log_prior"], stats["mean_music_theory_reward"], stats["kl_to_prior"]
            algorithm = algorithm_of(key)
            new = algorithm not in labelled
            labelled.add(algorithm)
            colour = colours.setdefault(algorithm, f"C{len(colours)}")  # one colour per algorithm in every panel
            ax.scatter(mt["per_seed"], lp["per_seed"], s=12, color=colour, alpha=0.5)
            low_mt, high_mt = mt["t_ci"] or (mt["mean"], mt["mean"])
            low_lp, high_lp = lp["t_ci"] or (lp["mean"], lp["mean"])
            xerr = [[mt["mean"] - low_mt], [high_mt - mt["mean"]]]
            yerr = [[lp["mean"] - low_lp], [high_lp - lp["mean"]]]
            label = f"{cell_title(algorithm)} ({cell['n_seeds']} seeds)" if new else None
            ax.errorbar(mt["mean"], lp["mean"], xerr=xerr, yerr=yerr, fmt="o", ms=6, capsize=3, color=colour,
                        label=label)  # fmt: skip
            ax.annotate(f"KL {kl['mean']:.2f}", (mt["mean"], lp["mean"]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")  # fmt: skip
        base = summary["cells"].get(NOTE_RNN)
        title = sweep["label"]
        if base is not None:
            stats = base["stats"]
            title += f"\n(Note RNN: log p {stats['mean_log_prior']['mean']:.2f}, "
            title += f"rMT {stats['mean_music_theory_reward']['mean']:.1f})"
        ax.set(title=title, xlabel="mean rMT per note (higher: more rules kept)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("mean log p(a|s) under the Note RNN")
    fig.suptitle(
        "dots: seeds; markers: mean with 95 % t-intervals over seeds; KL per note to the Note RNN",
        fontsize=9,
    )
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def write_comparison(
    folders: Sequence[str | Path], out: str | Path, command: str, allow_mixed: bool = False
) -> dict[str, Any]:
    """Compare the sweeps in ``folders`` and write ``comparison.json``, ``comparison.md``, ``logp_vs_rmt.png``.

    :raises ValueError: the sweeps' seeds were trained at different commits and not ``allow_mixed``.
    """
    sweeps = [compare_sweep(f) for f in folders]
    commits: dict[str, int] = {}
    for sweep in sweeps:
        for commit, n in sweep["commits"].items():
            commits[commit] = commits.get(commit, 0) + n
    check_one_commit(commits, allow_mixed, "--allow-mixed-commits")
    summaries = [json.loads((Path(f) / "summary.json").read_text()) for f in folders]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"command": command, "sweeps": sweeps}
    with atomic_write(out / "comparison.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    with atomic_write(out / "comparison.md") as tmp:
        tmp.write_text(f"Command: `{command}`\n\n" + markdown(sweeps))
    plot_logp_vs_rmt(sweeps, summaries, out / "logp_vs_rmt.png")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``rl-tuner compare``: write the side-by-side report of the sweeps given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "rl-tuner compare", __doc__.splitlines()[0])
    folders = [f.strip() for f in args.sweeps.split(",") if f.strip()]
    if not folders:
        raise ValueError("--sweeps is empty; give one or more sweep folders, comma-separated")
    command = "rl-tuner compare " + shlex.join(argv)
    with recorded(args.out, command):
        write_comparison(folders, args.out, command, args.allow_mixed_commits)
    print(f"[compare] {len(folders)} sweeps → {Path(args.out) / 'comparison.md'}")
    return 0


__all__ = [
    "COLUMNS",
    "compare_sweep",
    "last_logged",
    "markdown",
    "pairwise",
    "sweep_commits",
    "sweep_label",
    "tests",
    "write_comparison",
]

if __name__ == "__main__":
    sys.exit(main())
