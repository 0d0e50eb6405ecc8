"""Every committed result names a clean commit, and the code that trains and scores is the same there as at
HEAD (README, "Which code made each result"): a change to that code fails here until the results are rerun."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from benchmarks.provenance import read_provenance

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
FOLDERS = ("paper", "seeds", "c_sweep", "kl_pg", "kl_pg/fixed_c", "kl_pg/matched_kl", "ablations", "molecules",
           "molecules/speed.json", "speed.md")  # fmt: skip
"""Every results folder (and the speed report) made by this project's commands."""
CODE = ("agents", "sequence_env", "melody_env", "reward_rules", "molecule_env", "rl_tuner_cli",
        "benchmarks/evaluate.py", "benchmarks/sweep", "benchmarks/reproduction", "benchmarks/outside",
        "benchmarks/ablations")  # fmt: skip
"""The code a result's numbers come from (training, composing, scoring, the sweep and its statistics)."""
SWEEP = ("sweep", "evaluate", "sampling", "report", "figures")
OWN_CODE = {"molecules": tuple(f"benchmarks/molecules/{name}.py" for name in SWEEP),
            "molecules/speed.json": ("benchmarks/molecules/speed.py",)}  # fmt: skip
"""The molecule results' own commands: the sweep's sampling, judging, table and figure; the speed command."""


def _commits() -> dict[str, str]:
    found = {}
    for folder in FOLDERS:
        record = read_provenance(RESULTS / folder)
        assert record is not None, f"{folder} has no provenance"
        found[folder] = record["commit"]
        assert re.fullmatch(r"[0-9a-f]{40}", record["commit"]) and record["dirty"] is False, (folder, record["commit"])
    return found


def test_every_result_names_the_clean_commit_it_ran_at() -> None:
    assert set(_commits()) == set(FOLDERS)


def test_the_code_of_every_result_is_the_code_at_head() -> None:
    for folder, commit in _commits().items():
        known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True)
        if known.returncode != 0:
            pytest.skip(f"this checkout has no history back to {commit[:7]} (a shallow clone)")
        diff = subprocess.run(["git", "-C", str(ROOT), "diff", "--stat", commit, "HEAD", "--", *CODE,
                               *OWN_CODE.get(folder, ())],
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert diff.stdout == "", f"{folder} ran at {commit[:7]}; the code changed since:\n{diff.stdout}"
