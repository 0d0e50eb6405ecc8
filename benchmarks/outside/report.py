"""The outside-measures report: ``outside.json`` (every number) and ``outside.md`` (the tables), written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.outside.features import FEATURES, INTERVAL_BINS, NOTE_LENGTH_BINS, RULE_FREE
from benchmarks.outside.measures import closest_models
from benchmarks.page import MODEL_TITLES
from melody_env.atomic import atomic_write

VALIDATION = "validation halves"
"""Column of the validation set's second half compared with its first: the real-tune reference."""


def _title(name: str) -> str:
    return MODEL_TITLES.get(name, name)


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def _feature_tables(report: dict) -> list[str]:
    models, valid = report["models"], report["validation"]["features"]
    head = ["feature", "rules", VALIDATION, *map(_title, models)]
    titles = {
        "overlap_area": "Overlapping area (higher is closer to real tunes)",
        "kl_divergence": "KL divergence (lower is closer to real tunes)",
    }
    lines = []
    for metric, title in titles.items():
        rows = []
        for f in FEATURES:
            cells = [_num(m["features"][f.name][metric]) for m in models.values()]
            rows.append([f.title, f.rules or "none", _num(valid[f.name]["split_half"][metric]), *cells])
        lines += [f"## {title}", "", *_table(head, rows), ""]
    return lines


def _mean_tables(report: dict) -> list[str]:
    sets = {"validation": report["validation"], **report["models"]}
    head = ["feature", *(_title(n) for n in sets)]
    scalars = []
    for f in (f for f in FEATURES if not f.bins):
        rows = [s["features"][f.name] for s in sets.values()]
        scalars.append([f.title, *(f"{_num(r['mean'], 2)} ± {_num(r['std'], 2)}" for r in rows)])
    lines = ["## Feature means (± standard deviation over melodies)", "", *_table(head, scalars), ""]
    for name, bins in (("interval_histogram", INTERVAL_BINS), ("note_length_histogram", NOTE_LENGTH_BINS)):
        rows = [[b, *(_pct(s["features"][name]["mean"][i]) for s in sets.values())] for i, b in enumerate(bins)]
        label = "interval (semitones)" if name == "interval_histogram" else "note length"
        lines += [f"Mean {label} histogram (share of {'intervals' if 'interval' in name else 'notes'}):", ""]
        lines += [*_table([label, *head[1:]], rows), ""]
    return lines


def _key_table(report: dict) -> list[str]:
    sets = {"validation": report["validation"], **report["models"]}
    head = ["set", "analysed", "C major or A minor", "C major", "A minor", "mean correlation", "notes not in key"]
    rows = []
    for name, s in sets.items():
        k = s["key"]
        shares = (_pct(k[f"share_{key}"]) for key in ("c_major_or_a_minor", "c_major", "a_minor"))
        notes = f"{100 * k['notes_not_in_key']:.2f} %"
        rows.append([_title(name), f"{k['analysed']:,}", *shares, _num(k["mean_correlation"]), notes])
    return [
        "## Key check: music21's Krumhansl–Schmuckler analysis",
        "",
        "Share of melodies whose best key is C major or A minor (the corpus is transposed to those; the key rule "
        "rewards C major) and the mean correlation of the best key, on a seeded sample; beside Table 1's notes not "
        "in key (the key rule's measure, over all melodies).",
        "",
        *_table(head, rows),
        "",
    ]


def summary_lines(report: dict) -> list[str]:
    """The ranking on the rule-free features, with the validation halves as the mark to reach.

    :param report: as :func:`write_report` takes it.
    """
    halves = report["validation"]["features"]
    half_oa = sum(halves[n]["split_half"]["overlap_area"] for n in RULE_FREE) / len(RULE_FREE)
    half_kl = sum(halves[n]["split_half"]["kl_divergence"] for n in RULE_FREE) / len(RULE_FREE)
    ranked = closest_models(report["models"])
    names = ", ".join(f.title.split(" (")[0] for f in FEATURES if f.name in RULE_FREE)
    rows = [[f"{VALIDATION} (reference)", _num(half_oa), _num(half_kl), "", ""]]
    for name, _ in ranked:
        m = report["models"][name]
        keys = ("rule_free_overlap_area", "rule_free_kl_divergence", "ruled_overlap_area", "ruled_kl_divergence")
        rows.append([_title(name), *(_num(m[k]) for k in keys)])
    lead = (
        f"**Closest to real tunes on the features no rule measures ({names}): {_title(ranked[0][0])}**, "
        f"mean OA {_num(ranked[0][1])} against {_num(half_oa)} for two halves of the validation set."
        if ranked
        else "No model was measured."
    )
    head = ["set", "mean OA, rule-free", "mean KL, rule-free", "mean OA, ruled", "mean KL, ruled"]
    return ["## Summary", "", lead, "", *_table(head, rows), ""]


def report_markdown(report: dict) -> str:
    """The Markdown text of a report.

    :param report: as :func:`write_report` takes it.
    """
    s = report["settings"]
    lines = [
        "# Outside measures: the melodies against real held-out tunes",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}  ",
        f"Wall time: {report['wall_time_seconds']:.0f} s  ",
        f"Settings: {s['melodies']:,} melodies per model, {report['validation']['melodies']:,} validation openings "
        f"(32 steps), {s['pairs']:,} pairs per distance distribution, {s['key_melodies']:,} melodies per key check, "
        f"seed {s['seed']}.",
        "",
        "Per feature, the Yang–Lerch comparison (2018): the distances between pairs of validation melodies "
        "(intra-set) against the distances between a model's melody and a validation melody (inter-set), both "
        "smoothed by a Gaussian KDE; OA is their overlapping area, KL the divergence of the intra-set density from "
        "the inter-set one. The validation column compares the validation set's second half with its first the same "
        "way: what two samples of real tunes reach. Features: muspy's metrics and two histograms "
        "(`benchmarks/outside/features.py`); the rules column names the music-theory rules (docs/spec.md §4) that "
        "measure the feature.",
        "",
        *summary_lines(report),
        *_feature_tables(report),
        *_mean_tables(report),
        *_key_table(report),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _json_safe(value: object) -> object:
    """``value`` with every NaN float replaced by None, so the JSON is standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_report(report: dict, out: str | Path) -> tuple[Path, Path]:
    """Write ``outside.json`` (NaN as null) and ``outside.md`` under ``out`` (each atomically; folders made).

    :param report: ``command``, ``machine``, ``wall_time_seconds``, ``settings`` (melodies, pairs,
        key_melodies, seed), ``validation`` (:func:`~benchmarks.outside.measures.reference_summary`)
        and ``models`` (name → :func:`~benchmarks.outside.measures.outside_measures`).
    :param out: the folder.
    """
    out = Path(out)
    paths = out / "outside.json", out / "outside.md"
    texts = json.dumps(_json_safe(report), indent=2) + "\n", report_markdown(report)
    for path, text in zip(paths, texts, strict=True):
        with atomic_write(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return paths


__all__ = ["VALIDATION", "report_markdown", "summary_lines", "write_report"]
