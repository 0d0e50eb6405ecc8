"""Every committed result has its provenance, names a clean commit, and the code that trains and scores is the
same there as at HEAD (README, "Which code made each result"): a change to that code fails here until the
results are rerun."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from benchmarks.provenance import provenance_path, read_provenance

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
NOT_RERUN = {
    "outside": "an index of other folders' outside reports, holding no results",
    "train_note_rnn.md": "the shipped Note RNN's training report, made before provenance was recorded",
}
"""Results entries whose provenance names no commit, and why (each record's own note says more)."""
CODE = ("agents", "sequence_env", "melody_env", "reward_rules", "molecule_env", "rl_tuner_cli",
        "benchmarks/evaluate.py", "benchmarks/sweep", "benchmarks/reproduction", "benchmarks/outside",
        "benchmarks/ablations")  # fmt: skip
"""The code a result's numbers come from (training, composing, scoring, the sweep and its statistics)."""
SWEEP = ("sweep", "evaluate", "sampling", "report", "figures")
OWN_CODE = {"molecules": tuple(f"benchmarks/molecules/{name}.py" for name in SWEEP),
            "molecules/speed.json": ("benchmarks/molecules/speed.py",),
            "corpus.md": ("benchmarks/speed/bench_corpus.py",), "rules.md": ("benchmarks/speed/bench_rules.py",),
            "speed.md": ("benchmarks/speed",)}  # fmt: skip
"""A result's own command, beyond :data:`CODE`."""


def _entries() -> list[str]:
    """The results folders and reports: every top-level entry of ``benchmarks/results`` but the provenance
    files and the JSON twins of reports (``speed.json`` beside ``speed.md``), plus the folders inside them that
    a command wrote on its own (the two KL-PG sweeps, the molecule speed report)."""
    top = [p for p in sorted(RESULTS.iterdir()) if not p.name.endswith("provenance.json")]
    names = [p.name for p in top if not (p.suffix == ".json" and p.with_suffix(".md").exists())]
    return [*names, "kl_pg/fixed_c", "kl_pg/matched_kl", "molecules/speed.json"]


def _commits() -> dict[str, str]:
    found = {}
    for entry in _entries():
        if entry in NOT_RERUN:
            continue
        record = read_provenance(RESULTS / entry)
        assert record is not None, f"{entry} has no provenance"
        found[entry] = record["commit"]
        assert re.fullmatch(r"[0-9a-f]{40}", record["commit"]) and record["dirty"] is False, (entry, record["commit"])
    return found


def test_every_result_has_its_provenance() -> None:
    missing = [e for e in _entries() if not provenance_path(RESULTS / e).exists()]
    assert missing == [], f"results without provenance.json: {missing}"


def test_every_result_names_the_clean_commit_it_ran_at() -> None:
    assert {"paper", "seeds", "c_sweep", "kl_pg", "ablations", "molecules", "speed.md"} <= set(_commits())
    for entry in NOT_RERUN:
        assert read_provenance(RESULTS / entry)["note"], entry


def test_the_code_of_every_result_is_the_code_at_head() -> None:
    for entry, commit in _commits().items():
        known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
        if known.returncode != 0:
            pytest.skip(f"this checkout has no history back to {commit[:7]} (a shallow clone)")
        diff = subprocess.run(["git", "-C", str(ROOT), "diff", "--stat", commit, "HEAD", "--", *CODE,
                               *OWN_CODE.get(entry, ())], capture_output=True, text=True, check=True)  # fmt: skip
        assert diff.stdout == "", f"{entry} ran at {commit[:7]}; the code changed since:\n{diff.stdout}"
