"""The README's molecule block: the molecule sweep's table (``benchmarks/results/molecules/table.json``), means
with 95 % t-intervals over seeds, and the tests of the comparisons the README draws from it."""

from __future__ import annotations

from pathlib import Path

from benchmarks.readme.text import commands, floor_sentence, load, number, percent, tests_table, with_interval
from benchmarks.sweep.aggregate import HIGHER, LOWER
from benchmarks.sweep.differences import compare, family
from benchmarks.sweep.report import cell_title

COLUMNS = {"valid": "valid", "reward_terms": "reward of the terms", "mean_qed": "QED (valid)",
           "mean_sa": "SA (valid)", "mean_log_prior": "log p per molecule", "kl_to_prior": "KL to the prior",
           "FCD/Test": "FCD/Test"}  # fmt: skip
"""The columns shown, with their titles (``table.md`` has all of MOSES's metrics)."""
ORDER = ("prior", "q", "psi", "g", "rl_only", "kl_ppo", "rloo")
TESTED = {"valid": HIGHER, "reward_terms": HIGHER, "mean_sa": LOWER, "FCD/Test": LOWER}
"""The statistics on which the on-policy tuners are compared with G (which stays at the prior), better way."""


def molecules(results: Path) -> str:
    """The command, the table of means [95 % t-interval], and KL-PPO and RLOO tested against G."""
    table = load(results, "molecules", "table.json")
    record, runs = table["provenance"], table["runs"]
    lines = [commands(record["command"]), "", "| model | seeds | " + " | ".join(COLUMNS.values()) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]  # fmt: skip
    for name in (n for n in ORDER if n in runs):
        seeds = runs[name]
        title = "prior" if name == "prior" else cell_title(name)
        cells = []
        for column in COLUMNS:
            values = [seed.get(column) for seed in seeds]
            if name == "prior":
                cells.append(percent(values[0], 1) if column == "valid" else number(values[0], 3))
            else:
                cells.append(with_interval(values, "percent" if column == "valid" else "plain", digits=3))
        count = f"({record['settings']['prior_samples']:,} samples)" if name == "prior" else str(len(seeds))
        lines.append(f"| {title} | {count} | " + " | ".join(cells) + " |")
    rows = family([{"statistic": stat, "a": a, "b": "g",
                    **compare([s.get(stat) for s in runs[a]], [s.get(stat) for s in runs["g"]], better)}
                   for a in ("kl_ppo", "rloo") if a in runs for stat, better in TESTED.items()])  # fmt: skip
    lines += ["", f"Mean [95 % t-interval] over seeds; wall time {record['wall_seconds'] / 60:.1f} min. Tested: "
              "KL-PPO and RLOO against G. "
              + floor_sentence(rows), "", *tests_table(rows)]  # fmt: skip
    return "\n".join(lines)


__all__ = ["COLUMNS", "TESTED", "molecules"]
