"""The outside-measures report: ``outside.json`` (every number) and ``outside.md`` (the tables), written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.outside.features import FEATURES, INTERVAL_BINS, NOTE_LENGTH_BINS, RULE_FREE
from benchmarks.outside.measures import closest_models, rule_free_means
from benchmarks.page import MODEL_TITLES
from sequence_env.atomic import atomic_write

VALIDATION = "validation halves"
"""Column of the validation set's second half compared with its first: the real-tune reference."""


def _title(name: str) -> str:
    return MODEL_TITLES.get(name, name)


def fmt_number(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; "n/a" for None or NaN."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def fmt_percent(value: float | None) -> str:
    """A share as a percentage with one decimal; "n/a" for None or NaN."""
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a Markdown table."""
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
            cells = [fmt_number(m["features"][f.name][metric]) for m in models.values()]
            rows.append([f.title, f.rules or "none", fmt_number(valid[f.name]["split_half"][metric]), *cells])
        lines += [f"## {title}", "", *markdown_table(head, rows), ""]
    return lines


def _mean_tables(report: dict) -> list[str]:
    sets = {"validation": report["validation"], **report["models"]}
    head = ["feature", *(_title(n) for n in sets)]
    scalars = []
    for f in (f for f in FEATURES if not f.bins):
        rows = [s["features"][f.name] for s in sets.values()]
        scalars.append([f.title, *(f"{fmt_number(r['mean'], 2)} ± {fmt_number(r['std'], 2)}" for r in rows)])
    lines = ["## Feature means (± standard deviation over melodies)", "", *markdown_table(head, scalars), ""]
    for name, bins in (("interval_histogram", INTERVAL_BINS), ("note_length_histogram", NOTE_LENGTH_BINS)):
        rows = [[b, *(fmt_percent(s["features"][name]["mean"][i]) for s in sets.values())] for i, b in enumerate(bins)]
        label = "interval (semitones)" if name == "interval_histogram" else "note length"
        lines += [f"Mean {label} histogram (share of {'intervals' if 'interval' in name else 'notes'}):", ""]
        lines += [*markdown_table([label, *head[1:]], rows), ""]
    return lines


def _key_table(report: dict) -> list[str]:
    sets = {"validation": report["validation"], **report["models"]}
    head = ["set", "analysed", "C major or A minor", "C major", "A minor", "mean correlation", "notes not in key"]
    rows = []
    for name, s in sets.items():
        k = s["key"]
        shares = (fmt_percent(k[f"share_{key}"]) for key in ("c_major_or_a_minor", "c_major", "a_minor"))
        notes = f"{100 * k['notes_not_in_key']:.2f} %"
        rows.append([_title(name), f"{k['analysed']:,}", *shares, fmt_number(k["mean_correlation"]), notes])
    return [
        "## Key check: music21's Krumhansl–Schmuckler analysis",
        "",
        "Share of melodies whose best key is C major or A minor (the corpus is transposed to those; the key rule "
        "rewards C major) and the mean correlation of the best key, on a seeded sample; beside Table 1's notes not "
        "in key (the key rule's measure, over all melodies).",
        "",
        *markdown_table(head, rows),
        "",
    ]


def closest_sentence(title: str, overlap_area: float, half_overlap_area: float) -> str:
    """The summary's lead: which set is closest to real tunes on the rule-free features, against the halves.

    :param title: the set's title. :param overlap_area: its mean OA over :data:`RULE_FREE`.
    :param half_overlap_area: the same mean for the validation halves.
    """
    names = ", ".join(f.title.split(" (")[0] for f in FEATURES if f.name in RULE_FREE)
    return (
        f"**Closest to real tunes on the features no rule measures ({names}): {title}**, "
        f"mean OA {fmt_number(overlap_area)} against {fmt_number(half_overlap_area)} for two halves of the "
        "validation set."
    )


def summary_lines(report: dict) -> list[str]:
    """The ranking on the rule-free features, with the validation halves as the mark to reach.

    :param report: as :func:`write_report` takes it.
    """
    halves = report["validation"]["features"]
    half_oa = sum(halves[n]["split_half"]["overlap_area"] for n in RULE_FREE) / len(RULE_FREE)
    half_kl = sum(halves[n]["split_half"]["kl_divergence"] for n in RULE_FREE) / len(RULE_FREE)
    ranked = closest_models(report["models"])
    rows = [[f"{VALIDATION} (reference)", fmt_number(half_oa), fmt_number(half_kl), "", ""]]
    for name, _ in ranked:
        m = report["models"][name]
        keys = ("rule_free_overlap_area", "rule_free_kl_divergence", "ruled_overlap_area", "ruled_kl_divergence")
        rows.append([_title(name), *(fmt_number(m[k]) for k in keys)])
    lead = closest_sentence(_title(ranked[0][0]), ranked[0][1], half_oa) if ranked else "No model was measured."
    head = ["set", "mean OA, rule-free", "mean KL, rule-free", "mean OA, ruled", "mean KL, ruled"]
    return ["## Summary", "", lead, "", *markdown_table(head, rows), ""]


SHORT_HEAD = ["set", "mean OA, rule-free", "mean KL, rule-free", "mean OA, ruled", "mean KL, ruled",
              "C major or A minor (music21)", "mean key correlation"]  # fmt: skip
"""Columns of :func:`short_summary`'s table."""


def short_summary(report: dict) -> tuple[str, list[list[str]]]:
    """The closest-model sentence and a short table of a report, for ``rl-tuner reproduce --outside``.

    The table (columns :data:`SHORT_HEAD`) has one row per set, the validation halves first (the
    reference), then each model in the report's order: the mean OA and KL over the rule-free features
    (:data:`RULE_FREE`) and over the ruled ones, music21's share of C major or A minor and its mean
    correlation (:mod:`benchmarks.outside.keys`).

    :param report: as :func:`write_report` takes it.
    """
    valid = report["validation"]
    halves = rule_free_means({name: row["split_half"] for name, row in valid["features"].items()})
    ranked = closest_models(report["models"])
    lead = "No model was measured."
    if ranked:
        lead = closest_sentence(_title(ranked[0][0]), ranked[0][1], halves["rule_free_overlap_area"])
    sets = {f"{VALIDATION} (reference)": {**halves, "key": valid["key"]}}
    sets.update({_title(name): m for name, m in report["models"].items()})
    means = ("rule_free_overlap_area", "rule_free_kl_divergence", "ruled_overlap_area", "ruled_kl_divergence")
    rows = [
        [title, *(fmt_number(s[k]) for k in means), fmt_percent(s["key"]["share_c_major_or_a_minor"]),
         fmt_number(s["key"]["mean_correlation"])]
        for title, s in sets.items()
    ]  # fmt: skip
    return lead, rows


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


def json_safe(value: object) -> object:
    """``value`` with every NaN float replaced by None, so the JSON is standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
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
    texts = json.dumps(json_safe(report), indent=2) + "\n", report_markdown(report)
    for path, text in zip(paths, texts, strict=True):
        with atomic_write(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return paths


__all__ = [
    "SHORT_HEAD",
    "VALIDATION",
    "closest_sentence",
    "fmt_number",
    "fmt_percent",
    "json_safe",
    "markdown_table",
    "report_markdown",
    "short_summary",
    "summary_lines",
    "write_report",
]
