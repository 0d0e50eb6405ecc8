"""The paper-scale reproduction's README, written from its ``table1.json``: ours beside the paper, by statistic.

``python -m benchmarks.reproduction.paper_readme benchmarks/results/paper`` rewrites ``README.md`` in that
folder. The direction of each statistic is the change from each side's own Note RNN to its tuner, computed
from the numbers, so the words cannot drift from them. One training seed: see the README's Table 1
across seeds for what several seeds support.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.paper_numbers import PAPER_MODELS, PAPER_TABLE1
from sequence_env.atomic import atomic_write

NAMES = {
    "notes_excessively_repeated": ("notes excessively repeated", True),
    "autocorrelation_lag1": ("autocorrelation lag 1", False),
    "autocorrelation_lag2": ("autocorrelation lag 2", False),
    "autocorrelation_lag3": ("autocorrelation lag 3", False),
    "notes_not_in_key": ("notes not in key", True),
    "melodies_starting_with_tonic": ("melodies starting with tonic", True),
    "leaps_resolved": ("leaps resolved", True),
    "unique_max_note": ("melodies with a unique max note", True),
    "unique_min_note": ("melodies with a unique min note", True),
    "notes_in_motif": ("notes in motif", True),
    "notes_in_repeated_motif": ("notes in repeated motif", True),
}
TUNERS = ("q", "psi", "g")
TITLES = {"note_rnn": "Note RNN", "q": "Q", "psi": "Ψ", "g": "G", "rl_only": "RL only"}


def direction(before: float, after: float, autocorrelation: bool) -> str:
    """``↑``/``↓`` for a fraction that rises/falls; for an autocorrelation, whether it moves towards 0."""
    if autocorrelation:
        return "towards 0" if abs(after) < abs(before) else "away from 0"
    return "↑" if after > before else "↓"


def _mean(cell: dict | float) -> float:
    """A statistic's value: the mean of an interval cell, or the number itself."""
    return cell["mean"] if isinstance(cell, dict) else cell


def _value(x: float, fraction: bool) -> str:
    return f"{100 * x:.2f} %" if fraction else f"{x:.3f}"


def readme(table: dict) -> str:
    """The README text for a reproduction's ``table1.json``."""
    models = table["models"]
    lines = [
        "# Table 1 at the paper's scale, one training seed",
        "",
        f"Produced by `{table['command']}` ({table['machine']}; wall time "
        f"{table['wall_time_seconds'] / 60:.1f} min; `provenance.json` names the commit). "
        f"{table['settings']['steps']:,} env steps per tuner, seed {table['seed']}, "
        f"{table['settings']['melodies']:,} melodies scored per model. The full table with 95 % intervals over "
        "melodies is `table1.md`; `outside.md` judges the melodies from outside; `index.html` plays them.",
        "",
        "Those intervals say how precisely 100,000 melodies measure this set of tuners, not how another "
        "training run would come out. One seed cannot say whether a difference from the paper is real: Table 1 "
        "across seeds (the main README) is the one to quote. This file is written by "
        "`python -m benchmarks.reproduction.paper_readme benchmarks/results/paper`.",
        "",
        "Ours / the paper's. A direction is the change from each side's own Note RNN to its tuner; "
        '"same" means ours moves as the paper\'s does.',
        "",
        "| statistic | Note RNN | Q | Ψ | G | direction Q, Ψ, G: ours / paper |",
        "|---|---|---|---|---|---|",
    ]
    same_counts = dict.fromkeys(TUNERS, 0)
    for key, (name, fraction) in NAMES.items():
        ours = {m: _mean(models[m][key]) for m in models}
        paper = dict(zip(PAPER_MODELS, PAPER_TABLE1[key], strict=True))
        auto = not fraction
        cells = [f"{_value(ours[m], fraction)} / {_value(paper[m], fraction)}" for m in ("note_rnn", *TUNERS)]
        moves = []
        for m in TUNERS:
            mine = direction(ours["note_rnn"], ours[m], auto)
            theirs = direction(paper["note_rnn"], paper[m], auto)
            same_counts[m] += mine == theirs
            moves.append(f"{mine} / {theirs}" + (" (same)" if mine == theirs else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " | " + "; ".join(moves) + " |")
    n = len(NAMES)
    lines += [
        "",
        "Over these "
        + str(n)
        + " statistics the direction is the paper's for "
        + ", ".join(f"{TITLES[m]} on {same_counts[m]}" for m in TUNERS)
        + ". Our Note RNN starts elsewhere (folk tunes, not the paper's MIDI songs: docs/spec.md §2-§3).",
        "",
        "| model | mean log p(a\\|s) | mean rMT per note | distinct melodies |",
        "|---|---|---|---|",
    ]
    for m in ("note_rnn", *TUNERS, "rl_only"):
        log_p, rmt, distinct = (
            _mean(models[m][k]) for k in ("mean_log_prior", "mean_music_theory_reward", "distinct_melodies")
        )
        lines.append(f"| {TITLES[m]} | {log_p:.3f} | {rmt:.3f} | {100 * distinct:.2f} % |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``<folder>/README.md`` from ``<folder>/table1.json``."""
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    table = json.loads((folder / "table1.json").read_text(encoding="utf-8"))
    with atomic_write(folder / "README.md") as tmp:
        tmp.write_text(readme(table), encoding="utf-8")
    print(f"{folder / 'README.md'}: written")
    return 0


__all__ = ["direction", "main", "readme"]

if __name__ == "__main__":
    raise SystemExit(main())
