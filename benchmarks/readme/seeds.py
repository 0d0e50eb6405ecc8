"""The README's blocks of the Table 1 sweep (``benchmarks/results/seeds``): Table 1, its tested comparisons,
the outside measures. Each takes the results folder and returns the block's Markdown."""

from __future__ import annotations

from pathlib import Path

from benchmarks.paper_numbers import PAPER_RL_ONLY_LOG_PRIOR, paper_value
from benchmarks.readme.text import (
    PLAIN,
    TABLE1_ROWS,
    TUNERS,
    commands,
    finite,
    floor_sentence,
    load,
    number,
    paper_percent,
    percent,
    seeds_of,
    tests_of,
    tests_table,
    with_interval,
)
from benchmarks.sweep.report import cell_title


def seeds_table1(results: Path) -> str:
    """Table 1 over the seeds of its sweep: the mean and t-interval per tuner, the paper's Note RNN / Q / Ψ."""
    summary = load(results, "seeds", "summary.json")
    n = summary["cells"]["q/c=0.5"]["n_seeds"]
    head = "| statistic | Note RNN | Q | Ψ | G | RL only | paper: Note RNN / Q / Ψ |"
    caption = f"Mean over **{n} seeds** [95 % t-interval over seeds; fractions clipped to 0–100 %]:"
    lines = [commands(summary["command"]), "", caption, "", head, "|---|---|---|---|---|---|---|"]
    for name, title in TABLE1_ROWS.items():
        kind = "plain" if name in PLAIN else "percent"
        base = finite(seeds_of(summary, "note_rnn", name))
        mean = sum(base) / len(base)
        note_rnn = number(mean, 2) if kind == "plain" else percent(mean)
        cells = [with_interval(seeds_of(summary, k, name), kind) for k in TUNERS]
        paper = [paper_value(name, m) for m in ("note_rnn", "q", "psi")]
        figure2 = f"(Fig. 2: RL-only ≈ {number(PAPER_RL_ONLY_LOG_PRIOR, 2)})" if name == "mean_log_prior" else ""
        shown = " / ".join(paper_percent(v) for v in paper) if None not in paper else figure2
        lines.append(f"| {title} | {note_rnn} | " + " | ".join(cells) + f" | {shown} |")
    return "\n".join(lines)


SEEDS_CLAIMS = (
    *((k, "note_rnn", s) for k in TUNERS for s in ("notes_excessively_repeated", "notes_not_in_key",
                                                   "melodies_starting_with_tonic", "leaps_resolved",
                                                   "unique_min_note", "notes_in_motif")),
    *(("g/c=0.5", k, s) for k in ("q/c=0.5", "psi/c=0.5") for s in ("mean_log_prior", "mean_music_theory_reward",
                                                                   "kl_to_prior")),
    ("rl_only/c=0.5", "g/c=0.5", "mean_log_prior"), ("q/c=0.5", "psi/c=0.5", "unique_min_note"),
    ("q/c=0.5", "note_rnn", "distinct_melodies"),
)  # fmt: skip
"""The README's comparisons on the Table 1 sweep: each tuner against the Note RNN on the rules the paper
discusses, G against Q and Ψ, RL-only against G on log p, Q against Ψ, Q's distinct melodies."""


def seeds_claims(results: Path) -> str:
    """The README's comparisons of the Table 1 sweep, tested: one Holm family."""
    rows = tests_of(load(results, "seeds", "summary.json"), SEEDS_CLAIMS)
    separated = sum(r["separated"] for r in rows)
    head = f"{separated} of these {len(rows)} differences are separated by the seeds." if separated else (
        f"None of these {len(rows)} differences is separated by the seeds.")  # fmt: skip
    return "\n".join([head + " " + floor_sentence(rows), "", *tests_table(rows)])


def seeds_outside(results: Path) -> str:
    """The outside measures of the Table 1 sweep: rule-free, groove and scale overlaps, the key share."""
    outside = load(results, "seeds", "summary.json")["outside"]
    reference, cells = outside["reference"], outside["cells"]
    split = reference["split_half"]
    n = cells["q/c=0.5"]["n_seeds"]
    lines = [
        f"Mean over **{n} seeds** [95 % t-interval]; the overlaps from {outside['melodies']:,} melodies per model "
        f"and seed, music21's key from the first {outside['key_sample']:,} of them:",
        "",
        "| set | mean OA, rule-free features | groove consistency OA | scale consistency OA | in C major or A minor "
        "(music21) |",
        "|---|---|---|---|---|",
        f"| two halves of the validation tunes | {reference['rule_free_overlap_area']:.3f} | "
        f"{split['groove_consistency']['overlap_area']:.3f} | {split['scale_consistency']['overlap_area']:.3f} | "
        f"{percent(reference['key_share'])} |",
    ]
    for key in ("note_rnn", "g/c=0.5", "q/c=0.5", "psi/c=0.5", "rl_only/c=0.5"):
        cell, features = cells[key], cells[key]["features"]
        texts = [with_interval(cell["rule_free_overlap_area"]["per_seed"], digits=3, bold=key == "note_rnn"),
                 with_interval(features["groove_consistency"]["overlap_area"]["per_seed"], digits=3),
                 with_interval(features["scale_consistency"]["overlap_area"]["per_seed"], digits=3),
                 with_interval(cell["key_share"]["per_seed"], "percent")]  # fmt: skip
        lines.append(f"| {cell_title(key)} | " + " | ".join(texts) + " |")
    return "\n".join(lines)


__all__ = ["SEEDS_CLAIMS", "seeds_claims", "seeds_outside", "seeds_table1"]
