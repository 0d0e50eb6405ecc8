"""The molecule results table (like the paper's Table 1, across seeds) with the published numbers beside it.

``<out>/table.md`` and ``<out>/table.json``: one row for the prior (its samples), one per algorithm with
mean ± standard deviation over its seeds, then MOSES's published CharRNN and Train rows; and a
provenance block (commit, command, machine, date, wall time, budget).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.molecules.published import MOSES, MOSES_SOURCE, SEQUENCE_TUTOR_SOURCE
from sequence_env.atomic import atomic_write

MOSES_COLUMNS = ("valid", "unique@1k", "unique@10k", "Novelty", "IntDiv", "IntDiv2", "Filters", "FCD/Test",
                 "SNN/Test", "Frag/Test", "Scaf/Test")  # fmt: skip
REWARD_COLUMNS = ("reward_terms", "term_validity", "mean_qed", "mean_sa", "mean_penalized_logp", "term_ring_penalty",
                  "mean_log_prior", "kl_to_prior", "train_seconds")  # fmt: skip
ORDER = ("prior", "q", "psi", "g", "rl_only", "kl_ppo", "rloo")


def mean_std(values: list[float]) -> str:
    """``mean ± std`` (sample std, ddof 1) of the finite values; the value alone for one; ``–`` for none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "–"
    if len(finite) == 1:
        return f"{finite[0]:.3f}"
    return f"{np.mean(finite):.3f} ± {np.std(finite, ddof=1):.3f}"


def load_runs(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Run results by algorithm (``prior`` included), from ``<out>/runs/*.json``."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((out / "runs").glob("*.json")):
        result = json.loads(path.read_text())
        runs.setdefault(result["algorithm"], []).append(result)
    return runs


def table_rows(runs: dict[str, list[dict[str, Any]]], columns: tuple[str, ...]) -> list[list[str]]:
    """One row per algorithm: its name, seeds, then mean ± std of each column."""
    rows = []
    for name in [n for n in ORDER if n in runs]:
        results = runs[name]
        seeds = "–" if name == "prior" else str(len(results))
        rows.append([name, seeds, *(mean_std([r.get(c) for r in results]) for c in columns)])
    return rows


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def provenance_lines(provenance: dict[str, Any]) -> str:
    """The provenance as a markdown list (the settings are in the text above it, the command stands for argv)."""
    items = [(k, v) for k, v in provenance.items() if k not in ("settings", "argv")]
    return "\n".join(f"- {k}: `{v}`" if k == "command" else f"- {k}: {v}" for k, v in items)


def write_report(out: Path, provenance: dict[str, Any]) -> Path:
    """Write ``table.md`` and ``table.json`` from the runs in ``out``; the markdown path."""
    runs = load_runs(out)
    moses_rows = table_rows(runs, MOSES_COLUMNS)
    published = [[name, "–", *(values.get(c, "–") for c in MOSES_COLUMNS)] for name, values in MOSES.items()]
    settings = provenance["settings"]
    text = "\n\n".join(
        [
            "# Molecules: the SMILES prior tuned by each algorithm, judged by MOSES's metrics",
            f"Each algorithm tuned the prior for {settings['steps']:,} environment steps per seed "
            f"(c = {settings['c']}, fixed-length episodes of {settings['max_length']} tokens, the default reward "
            f"terms); each seed's policy was sampled {settings['samples']:,} times (the prior "
            f"{settings['prior_samples']:,} times). Mean ± std over seeds (sample std). SNN, Frag, Scaf and FCD "
            f"are against a seeded subsample of {settings['reference_size']:,} molecules of the MOSES test split; "
            "novelty against all of MOSES train. unique@10k needs 10,000 samples: the prior's row only. A seed "
            "whose samples hold no valid molecule has no value of the metrics of valid molecules; the mean is over "
            "the seeds that have one. FCD and Scaf grow with fewer samples: compare the runs with each other, and "
            "with the prior through G, whose policy stays at the prior (2,000 samples like the other runs).",
            "## MOSES metrics",
            markdown(["model", "seeds", *MOSES_COLUMNS], moses_rows + published),
            f"Published rows: {MOSES_SOURCE}; against the full test split, with 30,000 samples recommended.",
            "## Reward terms, log p under the prior and KL to the prior (per molecule)",
            markdown(["model", "seeds", *REWARD_COLUMNS], table_rows(runs, REWARD_COLUMNS)),
            "`reward_terms`: the weighted sum of the terms (validity 1, QED 1, SA 0.5, ring penalty 0.5) per "
            "molecule; `term_*`: a term's mean over all samples (0 for an invalid one); `mean_*`: a property's mean "
            "over the valid ones (SA: 1 easy to 10 hard); `mean_log_prior`: log p of the whole molecule under the "
            "prior (nats, up to its end token); `kl_to_prior`: mean of log π − log p over the samples.",
            f"Sequence Tutor: {SEQUENCE_TUTOR_SOURCE}.",
            "## Provenance",
            provenance_lines(provenance),
        ]
    )
    path = out / "table.md"
    with atomic_write(path) as tmp:
        tmp.write_text(text + "\n")
    summary = {"provenance": provenance, "runs": {k: [{c: r.get(c) for c in (*MOSES_COLUMNS, *REWARD_COLUMNS)}
               for r in v] for k, v in runs.items()}, "published": MOSES}  # fmt: skip
    with atomic_write(out / "table.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return path


__all__ = ["MOSES_COLUMNS", "REWARD_COLUMNS", "load_runs", "markdown", "mean_std", "table_rows", "write_report"]
