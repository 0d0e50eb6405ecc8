"""A tiny sweep on an embedded local Ray: its summary, a trial equal to the same seed without Ray, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import ray

from benchmarks.sweep import SweepConfig, grid_trials, run_sweep
from benchmarks.sweep.aggregate import STATISTICS
from benchmarks.sweep.engine import progress_line, trial_work
from benchmarks.sweep.trial import MODEL_FILE, STATS_FILE, run_seed, seed_dir


def test_progress_line_estimates_the_time_left() -> None:
    line = progress_line(done=3, failed=1, running=2, total=10, fraction=0.25, elapsed=60.0)
    assert line == "[sweep] 3/10 trials done (1 failed), 2 running; 25 % of the work; about 3 min left"
    assert progress_line(0, 0, 2, 10, 0.0, 5.0).endswith("time left not known yet")
    assert progress_line(1, 0, 1, 2, 0.5, 30.0).endswith("about 30 s left")
    assert trial_work({"spec": {"seeds": [0, 1], "steps": 100, "melodies": 10}}) == 220.0


def test_tiny_sweep_on_local_ray(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    config = SweepConfig(algorithms=("q", "g"), seeds=2, steps=320, melodies=40, n_envs=32, out=str(out), cpus=2)
    lines: list[str] = []
    summary = run_sweep(config, "test", write=lines.append)
    assert not ray.is_initialized()
    assert any(line.startswith("[sweep] 6/6 trials done") for line in lines)

    data = json.loads((out / "summary.json").read_text())
    assert set(data["cells"]) == {"note_rnn", "q/c=0.5", "g/c=0.5"}
    for key, cell in data["cells"].items():
        assert cell["n_seeds"] == 2 and cell["seeds"] == [0, 1]
        assert set(cell["stats"]) == set(STATISTICS)
        for name, entry in cell["stats"].items():
            assert len(entry["per_seed"]) == 2
            low, high = entry["ci"]
            assert low <= entry["mean"] <= high and entry["iqm"] is None  # no IQM of 2 seeds: nothing is trimmed
            assert entry["t_ci"] is None if entry["n"] < 2 else entry["t_ci"][0] <= entry["mean"] <= entry["t_ci"][1]
            assert ("p_improvement" in entry) == (key != "note_rnn"), name
    assert data["cells"]["note_rnn"]["stats"]["kl_to_prior"]["per_seed"] == [0.0, 0.0]
    assert all(v > 0 for v in data["cells"]["q/c=0.5"]["stats"]["kl_to_prior"]["per_seed"])
    assert "Q, 2 seeds" in (out / "table1.md").read_text()
    assert set(data["commits"]) == {
        json.loads((seed_dir(out, "q/c=0.5", 0) / STATS_FILE).read_text())["code"]["commit"]
    }
    assert json.loads((out / "provenance.json").read_text())["command"] == "test"
    assert (out / "fig2.png").stat().st_size > 0
    models = sorted(out.rglob(MODEL_FILE))
    assert [p.relative_to(out / "trials").parent.as_posix() for p in models] == [
        "g/c=0.5/seed_0", "g/c=0.5/seed_1", "q/c=0.5/seed_0", "q/c=0.5/seed_1"]  # fmt: skip

    # The same seed trained in this process, without Ray, gives the same statistics exactly.
    spec = next(s for s in grid_trials(config) if s.cell == "g/c=0.5" and s.seeds == (1,))
    alone = run_seed(spec, 1, tmp_path / "alone")
    assert alone["stats"] == json.loads((seed_dir(out, "g/c=0.5", 1) / STATS_FILE).read_text())["stats"]

    # Rerunning the finished sweep trains nothing and does not start Ray.
    stamps = {p: p.stat().st_mtime_ns for p in models}
    lines.clear()
    again = run_sweep(config, "test", write=lines.append)
    assert lines[0].startswith("[sweep] 6 trials, 6 finished before")
    assert not any("trials done" in line for line in lines)
    assert {p: p.stat().st_mtime_ns for p in models} == stamps
    assert again["cells"] == summary["cells"]
