"""The ablation report: each switch against its baseline cell, per model, with mean and min–max over seeds.

For every statistic of a model (Table 1's, mean log p, mean rMT, distinct melodies, shares of rests and holds):

- the baseline's and the switch's mean over seeds, with the min–max;
- the paper's value (docs/spec.md §7, :mod:`benchmarks.paper_numbers`);
- the share of the gap to the paper that the switch closes, ``(on − off) / (paper − off)``: 100 % reaches
  the paper, above 100 % overshoots it, below 0 moves away. It is left out where the baseline is already
  as close to the paper as its own seed range is wide;
- whether the two seed ranges are apart. Only then do three seeds support a change.

``ablations.json`` holds every number, ``ablations.md`` the tables. Both are written atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.page import MODEL_TITLES
from benchmarks.paper_numbers import paper_value
from benchmarks.provenance import check_one_commit, commits_of, mixed_note
from reward_rules.stats import TABLE1_KEYS
from sequence_env.atomic import atomic_write

ROWS: tuple[str, ...] = (*TABLE1_KEYS, "mean_log_prior", "mean_music_theory_reward", "distinct_melodies",
                         "rest_share", "hold_share")  # fmt: skip
PLAIN = ("autocorrelation_lag1", "autocorrelation_lag2", "autocorrelation_lag3", "mean_log_prior",
         "mean_music_theory_reward", "mean_log_prior_own")  # fmt: skip
OWN = "mean_log_prior_own"
"""A drifted G's mean log p under its own prior, compared with the baseline G's (whose prior is the true one)."""


def seed_summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean, min and max of one statistic over seeds, and the per-seed values."""
    values = [float(v) for v in values]
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "per_seed": values}


def gap_closed(off: float, on: float, paper: float | None) -> float | None:
    """``(on − off) / (paper − off)``: the share of the baseline's distance to the paper that the switch closes."""
    if paper is None or paper == off:
        return None
    return (on - off) / (paper - off)


def apart(off: Mapping[str, float], on: Mapping[str, float]) -> bool:
    """True when the two min–max ranges over seeds do not overlap."""
    return on["min"] > off["max"] or on["max"] < off["min"]


def compare_statistic(off: Sequence[float], on: Sequence[float], paper: float | None) -> dict[str, Any]:
    """One row: both summaries, the paper's value, the gap closed (if the gap exceeds the seed range), apart."""
    a, b = seed_summary(off), seed_summary(on)
    shown = paper is not None and abs(paper - a["mean"]) > a["max"] - a["min"]
    return {"off": a, "on": b, "paper": paper, "gap_closed": gap_closed(a["mean"], b["mean"], paper) if shown else None,
            "apart": apart(a, b)}  # fmt: skip


def _per_seed(model: Mapping[str, Mapping[str, float]], name: str) -> list[float]:
    return [float(stats[name]) for _, stats in sorted(model.items(), key=lambda kv: int(kv[0]))]


def compare_cells(cell: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """For each model in both cells, :func:`compare_statistic` per row (and a drifted G's own log p)."""
    out = {}
    for model, on in cell["models"].items():
        off = baseline["models"].get(model)
        if off is None:
            continue
        rows = {name: compare_statistic(_per_seed(off, name), _per_seed(on, name), paper_value(name, model))
                for name in ROWS}  # fmt: skip
        if all(OWN in stats for stats in on.values()):
            rows[OWN] = compare_statistic(_per_seed(off, "mean_log_prior"), _per_seed(on, OWN), None)
        out[model] = rows
    return out


def build_report(cells: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every finished cell and every comparison of a cell with its finished baseline."""
    comparisons = {
        name: {"title": c["title"], "baseline": c["baseline"], "models": compare_cells(c, cells[c["baseline"]])}
        for name, c in cells.items()
        if c.get("baseline") in cells
    }
    return {"cells": dict(cells), "comparisons": comparisons}


def _fmt(name: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.3f}" if name in PLAIN else f"{100 * value:.2f} %"


def _range(name: str, s: Mapping[str, float]) -> str:
    return f"{_fmt(name, s['mean'])} ({_fmt(name, s['min'])} – {_fmt(name, s['max'])})"


LABELS = {
    "mean_log_prior": "mean log p(a\\|s) under the cell's Note RNN",
    "mean_music_theory_reward": "mean rMT per note",
    OWN: "mean log p(a\\|s) under its own (drifted) prior",
}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _model_table(model: str, rows: Mapping[str, Mapping[str, Any]], n_seeds: int) -> list[str]:
    title = MODEL_TITLES.get(model, model)
    head = "| statistic | off: mean (min – max) | on: mean (min – max) | paper | gap to the paper closed | apart |"
    seeds = f"{n_seeds} seeds each side"
    if model == "note_rnn":  # not trained per seed: one Note RNN each side, sampled with each seed's melody seed
        seeds = f"one trained Note RNN each side, {n_seeds} melody seeds: the range is sampling only"
    lines = [f"**{title}** ({seeds})", "", head, "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        gap = "—" if row["gap_closed"] is None else f"{round(100 * row['gap_closed'])} %"
        lines.append(f"| {_label(name)} | {_range(name, row['off'])} | {_range(name, row['on'])} | "
                     f"{_fmt(name, row['paper'])} | {gap} | {'yes' if row['apart'] else 'no'} |")  # fmt: skip
    return [*lines, ""]


def supported(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One phrase per statistic whose seed ranges are apart: the change, and whether it moves toward the paper."""
    phrases = []
    for name, row in rows.items():
        if not row["apart"]:
            continue
        off, on = row["off"]["mean"], row["on"]["mean"]
        where = ""
        if row["paper"] is not None:
            toward = abs(on - row["paper"]) < abs(off - row["paper"])
            where = f", {'toward' if toward else 'away from'} the paper's {_fmt(name, row['paper'])}"
        phrases.append(f"{_label(name)} {_fmt(name, off)} → {_fmt(name, on)}{where}")
    return phrases


def render(report: Mapping[str, Any]) -> str:
    """``ablations.md``: how the runs were made, then one section per switch."""
    cells = report["cells"]
    first = next(iter(cells.values()))
    ident = first["identity"]
    intro = (
        f"Seeds {', '.join(map(str, ident['seeds']))} per model; {ident['steps']:,} environment steps per tuner "
        f"({ident['n_envs']} melodies in parallel, docs/spec.md §6 settings); {ident['melodies']:,} melodies "
        "composed per model and seed (primers and draws seeded with seed + 1). Table 1's statistics are counted "
        "with the paper's labels (0 = note off, 1 = hold) in every cell."
    )
    note = mixed_note(report.get("commits", {}))
    lines = [
        "# Ablations: the original implementation's differences, switched on one at a time",
        *([f"\n{note}"] if note else []),
        "",
        intro,
        "",
        "A change is supported by these seeds only where the two seed ranges are apart (column 'apart').",
        "",
        "## How the runs were made",
        "",
        f"Machine: {first['machine']}. Wall times depend on what else ran on the shared cores; CPU times are the cost.",
        "",
        "| cell | what | command | training time (wall, CPU) |",
        "|---|---|---|---|",
    ]
    for name, c in cells.items():
        times = ", ".join(f"{MODEL_TITLES.get(a, a)} {t['wall'] / 60:.1f} / {t['cpu'] / 60:.1f} min"
                          for a, t in c["train_seconds"].items())  # fmt: skip
        lines.append(f"| `{name}` | {c['title']} | `{c['command']}` | {times or '—'} |")
    lines.append("")
    for name, comp in report["comparisons"].items():
        lines += [f"## {comp['title']}: `{name}` against `{comp['baseline']}`", ""]
        for model, rows in comp["models"].items():
            phrases = supported(rows)
            found = "; ".join(phrases) if phrases else "no statistic moves beyond the seed spread"
            lines.append(f"- {MODEL_TITLES.get(model, model)}: {found}")
        lines.append("")
        for model, rows in comp["models"].items():
            lines += _model_table(model, rows, len(cells[name]["identity"]["seeds"]))
    return "\n".join(lines).rstrip() + "\n"


def write_report(out: Path, allow_mixed: bool = False) -> Path:
    """Read ``out/cells/*.json``; write ``out/ablations.json`` and ``out/ablations.md`` (atomically).

    :param allow_mixed: report cells trained at different commits together (the report says so); else
        ``ValueError``.
    """
    order = ("default", "per_tensor_clip", "bootstrap_last_note", "g_trains_reward_rnn", "labels_control",
             "labels_original")  # fmt: skip
    found = {p.stem: json.loads(p.read_text()) for p in sorted((out / "cells").glob("*.json"))}
    cells = {name: found[name] for name in (*order, *sorted(set(found) - set(order))) if name in found}
    commits = commits_of(cells.values())
    check_one_commit(commits, allow_mixed, "--allow-mixed-commits")
    report = {**build_report(cells), "commits": commits}
    with atomic_write(out / "ablations.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    with atomic_write(out / "ablations.md") as tmp:
        tmp.write_text(render(report), encoding="utf-8")
    return out / "ablations.md"


__all__ = ["OWN", "ROWS", "apart", "build_report", "compare_cells", "compare_statistic", "gap_closed",
           "render", "seed_summary", "supported", "write_report"]  # fmt: skip
