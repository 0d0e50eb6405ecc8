"""Smoke run of benchmarks/speed/report.py on tiny budgets (no timing is checked), and its report's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.speed.report import (
    NOT_MEASURED,
    Args,
    comparison_section,
    duration,
    main,
    paper_section,
    read_paper_run,
)

FIXTURES = Path(__file__).parents[1] / "melody_env" / "data"


def test_speed_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "speed.md"
    argv = [
        "--corpus", str(FIXTURES), "--corpus-workers", "1", "--single-steps", "40", "--num-envs", "4",
        "--vector-steps", "4", "--agent-envs", "5", "--agent-steps", "50", "--melodies", "20", "--repeats", "1",
        "--population", "2", "--population-steps", "20", "--load-vector-steps", "2", "--load-train-steps", "20",
        "--single-env-steps", "100",
        "--paper", str(tmp_path / "missing.json"), "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    text = out.read_text()
    assert "Command: `python -m benchmarks.speed.report --corpus" in text
    assert "torch 2." in text and "(1 thread)" in text
    for heading in ("## 1. Corpus", "## 2. Environment", "## 3. Training", "## 4. Composing and scoring 20",
                    "## 5. Paper-scale", "## 6. Beside the original"):  # fmt: skip
        assert heading in text
    assert "| cold, 1 worker |" in text and "| warm (cache), same process |" in text
    assert "2 melodies" in text  # tiny.abc: two of its four tunes are usable
    assert "vector env, N = 4" in text and "RLTuner / SB3 DQN" in text
    assert "RLTuner / SB3 DQN on one env" in text
    assert "## 2b. Under load" in text and "| defaults (torch_threads=1) |" in text
    assert "## 3b. A population of K = 2 agents" in text and "| K = 2 in one `Population` |" in text
    assert "| Note RNN | Q tuner |" in text and "| **total, stage by stage in 1 process** |" in text
    assert "| **total, `compose_and_score` + `summarise` in 1 process** |" in text  # 20 melodies: one task
    assert "| **melodies/s, 1 process** |" in text
    assert "| log-prior scoring (a separate Reward RNN pass) | – |" in text  # recorded while the Note RNN composes
    # Its tables as JSON beside it (the README quotes them), and its provenance.
    tables = json.loads(out.with_suffix(".json").read_text())["tables"]
    training = next(t for t in tables if t["section"] == "3. Training")
    assert training["columns"][0] == "agent" and training["rows"][0][0].startswith("RLTuner Q")
    provenance = json.loads((tmp_path / "speed.provenance.json").read_text())
    assert provenance["command"].startswith("rl-tuner speed --corpus") and provenance["wall_seconds"] > 0
    assert "Not run yet" in text and f"| {NOT_MEASURED} |" in text


def test_paper_section_reads_the_reproduction_record(tmp_path: Path) -> None:
    path = tmp_path / "table1.json"
    assert read_paper_run(path) is None
    record = {
        "command": "rl-tuner reproduce --scale paper",
        "wall_time_seconds": 4500.0,
        "training_seconds": {"q": 1800.0, "psi": 1900.0},
        "settings": {"steps": 1_000_000, "melodies": 100_000, "workers": 2},
        "machine": "x86_64, 2 cores",
    }
    path.write_text(json.dumps(record))
    text = "\n".join(paper_section(read_paper_run(path), path))
    assert "command `rl-tuner reproduce --scale paper`" in text
    assert "wall time: **1 h 15 min**" in text
    assert "Q 30.0 min, Ψ 31.7 min" in text and "2 at a time" in text
    assert "1,000,000 env steps per tuner, 100,000 melodies" in text


def test_comparison_ratios() -> None:
    # 2,400 / 1,200 = 2.0×; 900 / 90 = 10×; 100,000 melodies at 900/s = 111 s = 1.9 min; 9,000 s / 4,500 s = 2.0×.
    rows = [line for line in comparison_section(2400.0, 900.0, 4500.0) if line.startswith("| ")]
    assert rows[1] == "| training, env steps/s incl. gradient steps (RLTuner Q) | 2,400 | ≈1,200 | 2.0× |"
    assert rows[2] == "| Table 1 composing + scoring, melodies/s (Q tuner) | 900 | ≈90 | 10× |"
    assert rows[3] == "| time per 100,000 melodies | 1.9 min | ≈18 min | 10× |"
    assert rows[4] == "| paper-scale reproduction, wall time | 1 h 15 min | ≈2.5 h | 2.0× |"
    not_run = comparison_section(2400.0, 900.0, None)[-2]
    assert not_run == "| paper-scale reproduction, wall time | not run yet | ≈2.5 h | – |"


def test_duration() -> None:
    assert [duration(s) for s in (5.0, 42.0, 1110.0, 9000.0)] == ["5.0 s", "42 s", "18.5 min", "2 h 30 min"]


def test_the_default_paper_run_is_the_committed_one() -> None:
    run = read_paper_run(Args().paper)
    assert run is not None and run["command"].startswith("rl-tuner reproduce --scale paper")
