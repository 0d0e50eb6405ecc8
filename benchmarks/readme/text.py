"""Formatting and testing helpers of the README's blocks: numbers, means with t-intervals, tables of tests.

Means carry 95 % Student t-intervals over seeds, each bound rounded once from its exact value; differences
carry the exact Mann–Whitney p-value, Holm-adjusted over the comparisons of their table, and are called
separated only where that adjusted p-value is below 0.05 (:mod:`benchmarks.sweep.differences`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.sweep.aggregate import BETTER, t_interval
from benchmarks.sweep.differences import compare, family, poi_coverage, smallest_mann_whitney_p, verdict
from benchmarks.sweep.report import cell_title

MINUS = "−"
TUNERS = ("q/c=0.5", "psi/c=0.5", "g/c=0.5", "rl_only/c=0.5")
TABLE1_ROWS = {
    "notes_excessively_repeated": "notes excessively repeated", "notes_not_in_key": "notes not in key",
    "melodies_starting_with_tonic": "melodies starting with tonic", "leaps_resolved": "leaps resolved",
    "unique_max_note": "unique max note", "unique_min_note": "unique min note", "notes_in_motif": "notes in motif",
    "notes_in_repeated_motif": "notes in repeated motif", "distinct_melodies": "distinct melodies",
    "mean_log_prior": "mean log p(a\\|s)", "mean_music_theory_reward": "mean rMT per note",
    "kl_to_prior": "KL to the prior per note (nats)",
}  # fmt: skip
"""Table 1's rows as the README shows them (the autocorrelations are in the sweep's own table1.md)."""
PLAIN = ("mean_log_prior", "mean_music_theory_reward", "kl_to_prior", "final_c", "objective")


def load(results: Path, *parts: str) -> dict[str, Any]:
    """A committed results file's JSON."""
    return json.loads(Path(results, *parts).read_text())


def finite(values: Sequence[float | None]) -> list[float]:
    """The seeds' values without the missing ones."""
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def number(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals and a typographic minus."""
    text = f"{value:.{digits}f}"
    return text.replace("-", MINUS) if value < 0 and float(text) != 0 else text.lstrip("-")


def percent_digits(value: float) -> int:
    """Two decimals below 1 %, one from there on."""
    return 2 if abs(value) < 0.01 else 1


def percent(value: float, digits: int | None = None) -> str:
    """A fraction as a percentage: ``0.0005`` → ``0.05 %``."""
    return f"{number(100 * value, percent_digits(value) if digits is None else digits)} %"


def paper_percent(value: float) -> str:
    """A fraction the paper reports, as the shortest percentage: ``0.633`` → ``63.3 %``, ``0.00007`` → ``0.007 %``."""
    return f"{round(100 * value, 4):g} %"


def with_interval(values: Sequence[float | None], kind: str = "plain", digits: int = 2, bold: bool = False) -> str:
    """The mean of the seeds with its 95 % t-interval: ``−1.87 [−1.89, −1.85]``; each bound rounded once.

    :param kind: ``"plain"`` (``digits`` decimals) or ``"percent"`` (the mean's decimals for all three; the
        interval clipped to 0–100 %, where every fraction lies, so it covers at least as often).
    """
    seeds = finite(values)
    if not seeds:
        return "—"
    mean = sum(seeds) / len(seeds)
    interval = t_interval(seeds)
    if kind == "percent":
        places = percent_digits(mean)
        show: Callable[[float], str] = lambda v: number(100 * v, places)  # noqa: E731
        unit = " %"
        interval = None if interval is None else (max(interval[0], 0.0), min(interval[1], 1.0))
    else:
        show, unit = (lambda v: number(v, digits)), ""
    head = f"**{show(mean)}**" if bold else show(mean)
    if interval is None:
        return head + unit
    return f"{head}{unit} [{show(interval[0])}, {show(interval[1])}]"


def commands(*lines: str) -> str:
    """Recorded command lines as a shell block."""
    return "```bash\n" + "\n".join(lines) + "\n```"


def seeds_of(summary: Mapping[str, Any], key: str, name: str) -> list[float | None]:
    """Per-seed values of ``name`` in cell ``key`` of a sweep's ``summary.json``."""
    return summary["cells"][key]["stats"][name]["per_seed"]


def floor_sentence(rows: Sequence[Mapping[str, Any]]) -> str:
    """What the seeds can show at all: the smallest exact p-value against Holm's first threshold."""
    sizes = sorted({(r["n"], r["m"]) for r in rows if r["n"] and r["m"]})
    floors = ", ".join(f"{smallest_mann_whitney_p(n, m):.2g} at {n} against {m} seeds" for n, m in sizes)
    cover = ", ".join(f"{100 * poi_coverage(n, m):.0f} % at {n} against {m}" for n, m in sizes)
    return (f"The {len(rows)} comparisons are one family (Holm's adjustment); the smallest possible exact "
            f"Mann–Whitney p-value is {floors}, against {0.05 / len(rows):.2g} needed by the first of "
            f"{len(rows)}. The intervals of P are percentile bootstraps, nominal 95 %; in simulated pairs of normal "
            f"seeds without a difference they covered P = ½ {cover}.")  # fmt: skip


def tests_table(rows: Sequence[Mapping[str, Any]], label: Callable[[str], str] = cell_title) -> list[str]:
    """Comparisons as a table: the probability of improvement, the exact and the adjusted p-values, the verdict."""
    lines = ["| A | B | statistic | P(A better than B) [95 % bootstrap] | exact Mann–Whitney p | Holm-adjusted | "
             "verdict |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        a, b = label(r["a"]), label(r["b"])
        poi = f"{r['poi']:.2f} [{r['poi_ci'][0]:.2f}, {r['poi_ci'][1]:.2f}]"
        lines.append(f"| {a} | {b} | {TABLE1_ROWS.get(r['statistic'], r['statistic'].replace('_', ' '))} | {poi} | "
                     f"{r['p_mann_whitney']:.2g} | {r['p_holm']:.2g} | {verdict(r, a, b)} |")  # fmt: skip
    return lines


def tests_of(summary: Mapping[str, Any], triples: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    rows = []
    for a, b, name in triples:
        rows.append({"statistic": name, "a": a, "b": b,
                     **compare(seeds_of(summary, a, name), seeds_of(summary, b, name), BETTER[name])})  # fmt: skip
    return family(rows)


__all__ = [
    "MINUS",
    "PLAIN",
    "TABLE1_ROWS",
    "TUNERS",
    "commands",
    "finite",
    "floor_sentence",
    "load",
    "number",
    "paper_percent",
    "percent",
    "percent_digits",
    "seeds_of",
    "tests_of",
    "tests_table",
    "with_interval",
]
