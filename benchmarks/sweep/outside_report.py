"""The outside measures across seeds: ``summary.json``'s ``"outside"`` and the sweep's ``outside.md``.

Per cell, from its seeds' ``outside.json`` (:mod:`benchmarks.sweep.outside`): per feature the overlapping
area and KL divergence against the validation tunes (:mod:`benchmarks.outside.measures`), their means over
the rule-free features and over the ruled ones (:data:`~benchmarks.outside.features.RULE_FREE`), and
music21's share of melodies in C major or A minor with its mean correlation (:mod:`benchmarks.outside.keys`).
Each is :func:`benchmarks.sweep.aggregate.statistic_summary` of the per-seed values; ``outside.md`` shows
the mean with its 95 % t-interval over seeds (the bootstrap interval of a summary written before t-intervals
existed). The reference row is the validation set's split half; ``closest``
ranks the cells by their mean over seeds of the rule-free OA.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.outside.features import FEATURE_NAMES, FEATURES
from benchmarks.outside.measures import closest_models, rule_free_means
from benchmarks.outside.report import (
    VALIDATION,
    closest_sentence,
    fmt_number,
    fmt_percent,
    json_safe,
    markdown_table,
)
from benchmarks.sweep.aggregate import statistic_summary
from benchmarks.sweep.outside import outside_identity, read_outside
from benchmarks.sweep.report import cell_title
from benchmarks.sweep.trial import seed_dir
from sequence_env.atomic import atomic_write

MEANS = ("rule_free_overlap_area", "rule_free_kl_divergence", "ruled_overlap_area", "ruled_kl_divergence")
"""The means over feature groups, as :func:`~benchmarks.outside.measures.rule_free_means` names them."""
METRICS = ("overlap_area", "kl_divergence")
KEY = {"key_share": "share_c_major_or_a_minor", "key_correlation": "mean_correlation"}
"""Summary name → the key check's value (:func:`benchmarks.outside.keys.key_check`)."""


def collect_outside(
    out: str | Path, results: Mapping[str, Sequence[Mapping[str, Any]]], melodies: int
) -> dict[str, list[dict[str, Any]]]:
    """Cell key → the ``outside.json`` of its finished seeds that have one of ``melodies`` melodies.

    :param out: the sweep folder. :param results: cell key → its seeds' ``stats.json`` contents.
    """
    found = {}
    for key, seeds in results.items():
        rows = [read_outside(seed_dir(out, key, r["identity"]["seed"]), outside_identity(r["identity"], melodies))
                for r in seeds]  # fmt: skip
        found[key] = [r for r in rows if r is not None]
    return found


def _value(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def summarise_outside_cell(seeds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One cell: each of :data:`MEANS`, :data:`KEY` and every feature's OA and KL over its seeds' ``outside.json``."""

    def summary(get: Callable[[Mapping[str, Any]], float | None]) -> dict[str, object]:
        return statistic_summary([_value(get(s["outside"])) for s in seeds])

    features = {name: {metric: summary(lambda m, n=name, k=metric: m["features"][n][k]) for metric in METRICS}
                for name in FEATURE_NAMES}  # fmt: skip
    return {
        "n_seeds": len(seeds),
        "seeds": [s["identity"]["seed"] for s in seeds],
        **{name: summary(lambda m, k=name: m[k]) for name in MEANS},
        **{name: summary(lambda m, k=key: m["key"][k]) for name, key in KEY.items()},
        "features": features,
    }


def reference_row(reference: Mapping[str, Any]) -> dict[str, Any]:
    """The validation halves (:func:`~benchmarks.outside.measures.reference_summary`): per feature the split
    half's OA and KL, their means as :data:`MEANS`, and the validation set's key check as :data:`KEY`."""
    split = {name: {m: _value(row["split_half"][m]) for m in METRICS} for name, row in reference["features"].items()}
    key = {name: reference["key"][k] for name, k in KEY.items()}
    return {"melodies": reference["melodies"], "split_half": split, **rule_free_means(split), **key}


def summarise_outside(outside: Mapping[str, Sequence[Mapping[str, Any]]], melodies: int) -> dict[str, Any]:
    """``summary.json``'s ``"outside"`` (NaN as null).

    :param outside: cell key → its seeds' ``outside.json`` (:func:`collect_outside`).
    :param melodies: melodies per model and seed (``--outside``).
    :return: ``melodies``, ``pairs`` and ``key_sample`` (``None`` before any seed is measured),
        ``reference`` (:func:`reference_row`), ``cells`` (cell key → :func:`summarise_outside_cell`) and
        ``closest`` (``[cell, mean rule-free OA]``, closest first).
    """
    measured = {key: seeds for key, seeds in outside.items() if seeds}
    first = next(iter(measured.values()), [None])[0]
    cells = {key: summarise_outside_cell(seeds) for key, seeds in measured.items()}
    ranked = closest_models({k: {"rule_free_overlap_area": _value(c["rule_free_overlap_area"]["mean"])}
                             for k, c in cells.items()})  # fmt: skip
    return json_safe({
        "melodies": melodies,
        "pairs": first and first["identity"]["pairs"],
        "key_sample": first and first["identity"]["key_sample"],
        "reference": first and reference_row(first["reference"]),
        "cells": cells,
        "closest": ranked,
    })  # fmt: skip


def _label(key: str, cell: Mapping[str, Any]) -> str:
    c = [part for part in key.split("/") if part.startswith("c=")]
    return ", ".join([cell_title(key), *c, f"{cell['n_seeds']} seeds"])


def _interval(entry: Mapping[str, Any], fmt: Callable[[float | None], str] = fmt_number) -> str:
    if entry["mean"] is None:
        return "n/a"
    interval = entry.get("t_ci", entry["ci"])
    if interval is None:
        return fmt(entry["mean"])
    low, high = interval
    return f"{fmt(entry['mean'])} [{fmt(low)}, {fmt(high)}]"


def _summary_lines(outside: Mapping[str, Any]) -> list[str]:
    ref, cells = outside["reference"], outside["cells"]
    head = ["set", "mean OA, rule-free", "mean KL, rule-free", "mean OA, ruled", "mean KL, ruled",
            "C major or A minor", "key correlation"]  # fmt: skip
    rows = [[f"{VALIDATION} (reference)", *(fmt_number(ref[k]) for k in MEANS), fmt_percent(ref["key_share"]),
             fmt_number(ref["key_correlation"])]]  # fmt: skip
    for key, _ in outside["closest"]:
        cell = cells[key]
        rows.append([_label(key, cell), _interval(cell[MEANS[0]]), _interval(cell[MEANS[1]]),
                     *(fmt_number(cell[k]["mean"]) for k in MEANS[2:]), _interval(cell["key_share"], fmt_percent),
                     fmt_number(cell["key_correlation"]["mean"])])  # fmt: skip
    best, best_oa = outside["closest"][0]
    lead = closest_sentence(_label(best, cells[best]), best_oa, ref["rule_free_overlap_area"])
    return ["## Summary: mean over seeds [95 % interval]", "", lead, "", *markdown_table(head, rows), ""]


def _feature_lines(outside: Mapping[str, Any]) -> list[str]:
    ref, cells = outside["reference"], outside["cells"]
    head = ["feature", "rules", VALIDATION, *(_label(key, cell) for key, cell in cells.items())]
    titles = {"overlap_area": "Overlapping area per feature (higher is closer to real tunes)",
              "kl_divergence": "KL divergence per feature (lower is closer to real tunes)"}  # fmt: skip
    lines = []
    for metric, title in titles.items():
        rows = [[f.title, f.rules or "none", fmt_number(ref["split_half"][f.name][metric]),
                 *(_interval(cell["features"][f.name][metric]) for cell in cells.values())]
                for f in FEATURES]  # fmt: skip
        lines += [f"## {title}: mean over seeds [95 % interval]", "", *markdown_table(head, rows), ""]
    return lines


def outside_markdown(summary: Mapping[str, Any]) -> str:
    """``outside.md`` from ``summary.json``'s content (its ``"outside"``, command and settings)."""
    outside = summary["outside"]
    lines = ["# Outside measures across seeds", "", f"Command: `{summary['command']}`  "]
    if not outside["cells"]:
        return "\n".join([*lines, "", "No seed has outside measures yet.", ""])
    lines += [
        f"Settings: {outside['melodies']:,} melodies per model and seed (composed with each seed's melody seed), "
        f"against {outside['reference']['melodies']:,} validation openings (32 steps); {outside['pairs']:,} pairs "
        f"per distance distribution, {outside['key_sample']:,} melodies per key check.",
        "",
        "Per feature, the Yang–Lerch comparison (2018) of a seed's melodies with the held-out validation tunes "
        "(`benchmarks/outside/measures.py`): OA is the overlapping area of the validation set's intra-set distances "
        "with the inter-set ones (higher is closer to real tunes), KL their divergence (lower is closer). Rule-free: "
        "the features no music-theory rule measures (docs/spec.md §4); ruled: the others. Key: the share of "
        "melodies music21 analyses in C major or A minor, and the mean correlation of the best key. Each set states "
        "its seeds (one model each; the Note RNN sampled with each seed's melody seed); values are means over "
        "seeds with 95 % Student t-intervals over seeds, as table1.md (no test of differences here). The "
        "validation halves: the validation set's second half against its first, what two samples of real tunes "
        "reach.",
        "",
        *_summary_lines(outside),
        *_feature_lines(outside),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_outside_report(out: str | Path, summary: Mapping[str, Any]) -> Path:
    """Write ``outside.md`` into ``out``, atomically; return its path."""
    path = Path(out) / "outside.md"
    with atomic_write(path) as tmp:
        tmp.write_text(outside_markdown(summary), encoding="utf-8")
    return path


__all__ = [
    "KEY",
    "MEANS",
    "METRICS",
    "collect_outside",
    "outside_markdown",
    "reference_row",
    "summarise_outside",
    "summarise_outside_cell",
    "write_outside_report",
]
