"""The sweep's report: ``summary.json`` (every cell's statistics across seeds) and ``table1.md``.

``summary.json`` holds ``cells``: cell key → ``{"n_seeds", "seeds", "stats": {statistic: {"mean", "ci",
"iqm", "iqm_ci", "per_seed", "n", "p_improvement"}}}`` (see :func:`benchmarks.sweep.aggregate.summarise_cell`),
the Note RNN's under ``"note_rnn"``, with the settings, the command and the direction of each statistic
(and, with ``--outside``, ``"outside"``: :func:`benchmarks.sweep.outside_report.summarise_outside`).
``table1.md`` shows, for each c, the mean with its t-interval, the IQM with its interval (from 5 seeds on),
the probability of improvement over the Note RNN, each column headed by its number of seeds, and the tests
of differences (``"differences"``: every pair of that c's cells on every statistic, exact Mann–Whitney and
Welch p-values Holm-adjusted over the table, :mod:`benchmarks.sweep.differences`). Every seed records the
commit it was trained at; a summary of seeds from several commits is refused unless allowed, and then says so
(``"commits"``).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from benchmarks.page import MODEL_TITLES
from benchmarks.provenance import check_one_commit, commits_of, mixed_note
from benchmarks.sweep.aggregate import BETTER, STATISTICS, summarise_cell
from benchmarks.sweep.differences import (
    bootstrap_coverage,
    compare,
    family,
    poi_coverage,
    smallest_mann_whitney_p,
    verdict,
)
from benchmarks.sweep.grid import NOTE_RNN, TrialSpec
from benchmarks.sweep.trial import read_result, seed_dir
from sequence_env.atomic import atomic_write

_PLAIN = ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior")


def collect(out: str | Path, specs: Sequence[TrialSpec]) -> dict[str, list[dict[str, Any]]]:
    """Cell key → the finished seeds' results in ``out`` (seed order), cells in the order of ``specs``."""
    cells: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        found = [read_result(seed_dir(out, spec.cell, s), spec.identity(s)) for s in spec.seeds]
        cells.setdefault(spec.cell, []).extend(r for r in found if r is not None)
    for results in cells.values():
        results.sort(key=lambda r: r["identity"]["seed"])
    return cells


def scan(out: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Cell key → every finished seed under ``out/trials`` (what an Optuna search left), Note RNN first."""
    cells: dict[str, list[dict[str, Any]]] = {NOTE_RNN: []}
    for path in sorted(Path(out, "trials").rglob("stats.json")):
        result = json.loads(path.read_text())
        cells.setdefault(result["cell"], []).append(result)
    for results in cells.values():
        results.sort(key=lambda r: r["identity"]["seed"])
    return cells


def c_groups(keys: Sequence[str]) -> dict[str, list[str]]:
    """``"c=<c>"`` → the Note RNN's key and the keys of that c's cells (the groups of the tables)."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        if key != NOTE_RNN:
            groups.setdefault(key.split("/")[1], [NOTE_RNN] if NOTE_RNN in keys else []).append(key)
    return groups


def differences(cells: Mapping[str, Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Every pair of ``keys`` (each trained cell against the Note RNN, then the cells against each other) on every
    statistic: :func:`benchmarks.sweep.differences.compare`, Holm-adjusted over the whole list."""
    pairs = [(a, b) for i, b in enumerate(keys) for a in keys[i + 1 :]]
    rows = []
    for name in STATISTICS:
        for a, b in pairs:
            x, y = cells[a]["stats"][name]["per_seed"], cells[b]["stats"][name]["per_seed"]
            rows.append({"statistic": name, "a": a, "b": b, **compare(x, y, BETTER[name])})
    return family(rows)


def build_summary(results: Mapping[str, Sequence[Mapping[str, Any]]], settings: Mapping[str, Any],
                  command: str, failed: Sequence[str] = (), allow_mixed: bool = False) -> dict[str, Any]:  # fmt: skip
    """What ``summary.json`` holds (see the module docs).

    :param results: cell key → its finished seeds (from :func:`collect`); must hold ``"note_rnn"``.
    :param settings: the sweep's settings. :param command: the command line that ran it.
    :param failed: one line per trial that failed.
    :param allow_mixed: report seeds trained at different commits together (else ``ValueError``).
    """
    if not results.get(NOTE_RNN):
        raise ValueError("the summary needs the Note RNN baseline: no seed of 'note_rnn' has finished")
    commits = commits_of(r for rs in results.values() for r in rs)
    check_one_commit(commits, allow_mixed, "--allow-mixed-commits")
    baseline = summarise_cell(results[NOTE_RNN], None)
    per_seed = {name: baseline["stats"][name]["per_seed"] for name in STATISTICS}
    cells = {NOTE_RNN: baseline}
    cells.update({key: summarise_cell(rs, per_seed) for key, rs in results.items() if key != NOTE_RNN and rs})
    return {
        "commits": commits,
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__} (1 thread per trial)",
        "settings": dict(settings),
        "better": dict(BETTER),
        "cells": cells,
        "train_seconds": {key: [r["train_seconds"] for r in rs] for key, rs in results.items()},
        "failed": list(failed),
        "differences": {c: differences(cells, keys) for c, keys in c_groups(list(cells)).items()},
    }


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if name in _PLAIN or name.startswith("autocorrelation"):
        return f"{value:.3f}"
    return f"{100 * value:.2f} %"


def cell_title(key: str) -> str:
    """A cell key as a title, c left out: ``"psi/c=0.5/exploration=boltzmann"`` → ``"Ψ (exploration=boltzmann)"``."""
    algorithm, *parts = key.split("/")
    extra = "/".join(p for p in parts if not p.startswith("c="))
    return MODEL_TITLES.get(algorithm, algorithm) + (f" ({extra})" if extra else "")


def _table(cells: Mapping[str, Mapping[str, Any]], text: Callable[[str, Mapping[str, Any]], str]) -> list[str]:
    head = "| statistic (better) | " + " | ".join(f"{cell_title(k)}, {c['n_seeds']} seeds" for k, c in cells.items())
    lines = [head + " |", "|" + "---|" * (len(cells) + 1)]
    for name in STATISTICS:
        row = [text(name, cell["stats"][name]) for cell in cells.values()]
        lines.append(f"| {name.replace('_', ' ')} ({BETTER[name]}) | " + " | ".join(row) + " |")
    return lines


def _interval(name: str, entry: Mapping[str, Any], value: str, ci: str) -> str:
    if entry[value] is None:
        return "—"
    if entry.get(ci) is None:
        return _fmt(name, entry[value])
    low, high = entry[ci]
    return f"{_fmt(name, entry[value])} [{_fmt(name, low)}, {_fmt(name, high)}]"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.2g}"


def differences_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The tests of one c's differences as markdown: one line per (statistic, pair), then what they can show."""
    lines = ["| statistic (better) | A | B | P(A better than B) [95 % bootstrap] | Mann–Whitney p | Holm | "
             "Welch p | Holm | verdict |", "|" + "---|" * 9]  # fmt: skip
    for r in rows:
        a, b = cell_title(r["a"]), cell_title(r["b"])
        poi = "—" if r["poi"] is None else f"{r['poi']:.2f} [{r['poi_ci'][0]:.2f}, {r['poi_ci'][1]:.2f}]"
        lines.append(f"| {r['statistic'].replace('_', ' ')} ({BETTER[r['statistic']]}) | {a} | {b} | {poi} | "
                     f"{_p(r['p_mann_whitney'])} | {_p(r['p_holm'])} | {_p(r['p_welch'])} | "
                     f"{_p(r['p_welch_holm'])} | {verdict(r, a, b)} |")  # fmt: skip
    sizes = sorted({(r["n"], r["m"]) for r in rows if r["n"] and r["m"]})
    floors = ", ".join(f"{smallest_mann_whitney_p(n, m):.2g} at {n} against {m}" for n, m in sizes)
    cover = ", ".join(f"{100 * poi_coverage(n, m):.0f} % at {n} against {m}" for n, m in sizes)
    lines += ["", f"The {len(rows)} comparisons of this table are one family: Holm's adjustment keeps the chance of "
              f"any false claim among them at 5 %. A difference is claimed only where the adjusted exact "
              f"Mann–Whitney p-value (no normality assumed) is below 0.05; Welch's test assumes normal seeds and is "
              f"shown beside it. The smallest possible exact p-value is {floors}. The probability-of-improvement "
              f"intervals are percentile bootstraps, nominal 95 %, which covered the truth (no difference, normal "
              f"seeds, 1,000 simulations) {cover}."]  # fmt: skip
    return lines


def markdown(summary: Mapping[str, Any]) -> str:
    """``table1.md``: per c, the mean (t-interval), the IQM (bootstrap interval, 5 seeds on), P(improvement over
    the Note RNN), the seeds, and the tests of differences."""
    cells = summary["cells"]
    by_c: dict[str, dict[str, Any]] = {}
    for key, cell in cells.items():
        if key != NOTE_RNN:
            by_c.setdefault(key.split("/")[1], {NOTE_RNN: cells[NOTE_RNN]})[key] = cell
    s = summary["settings"]
    outside = f"; outside: {s['outside']:,} melodies per model and seed (outside.md)" if s.get("outside") else ""
    parts = [
        "# Table 1 across seeds\n",
        f"Command: `{summary['command']}`  \nMachine: {summary['machine']}  \n"
        f"Settings: {s['steps']:,} env steps per tuner, {s['melodies']:,} melodies scored per model and seed, "
        f"{s['n_envs']} melodies in parallel; hyperparameters as docs/spec.md §6 unless set: "
        f"{json.dumps(s['hyperparameters']) if s['hyperparameters'] else 'none set'}"
        f"{', exploration ' + '/'.join(s['exploration']) if s['exploration'] else ''}"
        f"{', sampled by Optuna from ' + json.dumps(s['ranges']) if s.get('ranges') else ''}{outside}.\n",
        "Each column states its number of seeds (one trained model each; the Note RNN is sampled with each "
        "seed's melody seed). Means: 95 % Student t-interval over seeds. IQM (from 5 seeds): mean of the middle "
        "50 % of seeds, with a nominal 95 % stratified-bootstrap interval (its coverage is stated under its "
        "table). P(improvement): chance that a random seed of the model beats a random "
        "seed of the Note RNN in the direction shown, ties ½. Fractions as docs/spec.md §7; mean log p(a|s) "
        "under the Note RNN; mean rMT per note; KL per note in nats.\n",
    ]
    note = mixed_note(summary.get("commits", {}))
    if note:
        parts.append(note + "\n")
    for c, group in by_c.items():
        algorithms = {k: v for k, v in group.items() if k != NOTE_RNN}
        parts += [f"## {c}: mean [95 % t-interval]\n", *_table(group, lambda n, e: _interval(n, e, "mean", "t_ci")), ""]
        if any(cell["stats"][STATISTICS[0]]["iqm"] is not None for cell in group.values()):
            iqm = _table(group, lambda n, e: _interval(n, e, "iqm", "iqm_ci"))
            sizes = sorted({cell["stats"][STATISTICS[0]]["n"] for cell in group.values()})
            cover = ", ".join(f"{100 * bootstrap_coverage(n, trimmed=True):.0f} % at {n} seeds" for n in sizes)
            iqm.append(f"\nThese nominal 95 % intervals covered the IQM of normal seeds (1,000 simulations) {cover}.")
            parts += [f"## {c}: IQM [95 % bootstrap interval]\n", *iqm, ""]
        poi = _table(algorithms, lambda n, e: "—" if e["p_improvement"] is None else f"{e['p_improvement']:.2f}")
        parts += [f"## {c}: probability of improvement over the Note RNN\n", *poi, ""]
        seeds = _table(group, lambda n, e: " / ".join(_fmt(n, v) for v in e["per_seed"]))
        parts += [f"## {c}: per seed\n", *seeds, ""]
        if summary.get("differences", {}).get(c):
            parts += [f"## {c}: tests of differences\n", *differences_table(summary["differences"][c]), ""]
    if summary["failed"]:
        parts += ["## Failed trials\n", *(f"- {line}" for line in summary["failed"]), ""]
    return "\n".join(parts)


def write_report(out: str | Path, summary: Mapping[str, Any]) -> None:
    """Write ``summary.json`` and ``table1.md`` into ``out``, atomically."""
    out = Path(out)
    with atomic_write(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    with atomic_write(out / "table1.md") as tmp:
        tmp.write_text(markdown(summary), encoding="utf-8")


__all__ = [
    "build_summary",
    "c_groups",
    "cell_title",
    "collect",
    "differences",
    "differences_table",
    "markdown",
    "scan",
    "write_report",
]
