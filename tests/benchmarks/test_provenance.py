"""Provenance of a results folder: the commit, packages, command, machine and wall time it records."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks import provenance as prov


def test_code_state_names_this_checkout_or_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prov.code_state.cache_clear()
    head = subprocess.run(["git", "-C", str(prov.SOURCE), "rev-parse", "HEAD"], capture_output=True, text=True)
    state = prov.code_state()
    if head.returncode == 0:
        assert state["commit"] == head.stdout.strip() and isinstance(state["dirty"], bool)
    monkeypatch.setattr(prov, "SOURCE", tmp_path)  # no git checkout there
    prov.code_state.cache_clear()
    assert prov.code_state() == {"commit": "unknown", "dirty": None}
    prov.code_state.cache_clear()


def test_results_written_do_not_make_the_checkout_dirty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "code")
    monkeypatch.setattr(prov, "SOURCE", tmp_path)
    states = []
    for path in ("benchmarks/results/seeds/stats.json", "code.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("changed\n")
        prov.code_state.cache_clear()
        states.append(prov.code_state()["dirty"])
    prov.code_state.cache_clear()
    assert states == [False, True]


def test_cpu_model_reads_proc_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    assert prov.cpu_model(info) == "AMD EPYC 7B13"
    assert prov.cpu_model(tmp_path / "missing") != ""


def test_provenance_path_of_a_folder_and_of_a_file() -> None:
    assert prov.provenance_path("runs/sweep") == Path("runs/sweep/provenance.json")
    assert prov.provenance_path("benchmarks/results/speed.md") == Path("benchmarks/results/speed.provenance.json")


def test_recorded_writes_after_the_run_and_not_after_an_error(tmp_path: Path) -> None:
    with prov.recorded(tmp_path / "run", "rl-tuner speed --out x"):
        (tmp_path / "run").mkdir()
    record = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert record["command"] == "rl-tuner speed --out x" and record["wall_seconds"] >= 0
    assert {"commit", "dirty", "argv", "packages", "machine", "started"} <= set(record)
    assert record["packages"]["python"] and record["packages"]["torch"] and record["machine"]["cores"] >= 1
    assert record["started"].endswith("+00:00")
    with pytest.raises(RuntimeError), prov.recorded(tmp_path / "failed", "x"):
        raise RuntimeError("the run failed")
    assert prov.read_provenance(tmp_path / "failed") is None


def test_command_line_names_the_program() -> None:
    assert prov.command_line(["/venv/bin/rl-tuner", "sweep", "--seeds", "5"]) == ["rl-tuner", "sweep", "--seeds", "5"]


def test_results_of_several_commits_are_refused_unless_allowed() -> None:
    results = [{"code": {"commit": "a" * 40}}, {"code": {"commit": "a" * 40}}, {}]
    counts = prov.commits_of(results)
    assert counts == {"a" * 40: 2, "unknown": 1}
    with pytest.raises(ValueError, match=r"2 at aaaaaaaaaaaa, 1 at unknown.*--allow-mixed"):
        prov.check_one_commit(counts, False, "--allow-mixed")
    prov.check_one_commit(counts, True, "--allow-mixed")
    prov.check_one_commit({"a" * 40: 3}, False, "--allow-mixed")
    assert prov.mixed_note({"a" * 40: 3}) is None and "2 commits" in prov.mixed_note(counts)
