"""Statistics with nothing to count (NaN) are shown as "—" by the table and the page, never as 0 % or "nan"."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from benchmarks.evaluate import Scored, summarise
from benchmarks.page import Sample, write_listening_page
from benchmarks.reproduction.table1 import _markdown
from reward_rules import table1_intervals

# Two constant melodies: no leap (leaps resolved is 0/0) and no defined autocorrelation.
MELODIES = np.full((2, 32), 14)
UNDEFINED = ("leaps_resolved", "autocorrelation_lag1", "autocorrelation_lag2", "autocorrelation_lag3")


def _stats() -> dict[str, float]:
    scored = Scored(np.array([14, 14]), MELODIES, np.full((2, 32), -1.0), np.zeros((2, 32)))
    stats = summarise(scored)
    assert all(math.isnan(stats[name]) for name in UNDEFINED)
    return stats


def test_table1_markdown_shows_a_dash() -> None:
    result = {
        "models": {"note_rnn": _stats()},
        "intervals": {"note_rnn": {k: [v.low, v.high] for k, v in table1_intervals(MELODIES).items()}},
        "command": "test", "machine": "test", "wall_time_seconds": 1.0, "training_seconds": {},
        "reused_models": [], "training_steps": {}, "settings": {"melodies": 2, "c": 0.5, "n_envs": 1, "seed": 0},
    }  # fmt: skip
    rows = {line.split(" | ")[0]: line for line in _markdown(result).splitlines() if line.startswith("| ")}
    assert rows["| leaps resolved"] == "| leaps resolved | — / 77.20 % |"
    assert rows["| autocorrelation lag1"] == "| autocorrelation lag1 | — / -0.160 |"
    assert rows["| notes excessively repeated"].startswith("| notes excessively repeated | 84.38 % [")  # 27/32
    assert "nan" not in _markdown(result).lower()


def test_listening_page_shows_a_dash(tmp_path: Path) -> None:
    sample = Sample(wav="a.wav", midi="a.mid", png="a.png", melody=tuple(MELODIES[0]), primer=14)
    page = write_listening_page(tmp_path, {"note_rnn": _stats()}, {}, {"note_rnn": [sample]}).read_text()
    assert "nan" not in page.lower()
    assert page.count("<td>—</td>") >= len(UNDEFINED)
