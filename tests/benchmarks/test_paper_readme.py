"""The reproduction's README is written from its table: directions by hand, and the committed file is current."""

import json
from pathlib import Path

from benchmarks.reproduction.paper_readme import direction, readme

PAPER = Path(__file__).parents[2] / "benchmarks" / "results" / "paper"


def test_direction_by_hand():
    assert direction(0.10, 0.05, False) == "↓" and direction(0.10, 0.30, False) == "↑"
    assert direction(-0.3, 0.2, True) == "towards 0" and direction(-0.16, 0.55, True) == "away from 0"


def test_the_committed_readme_is_the_one_its_table_writes():
    table = json.loads((PAPER / "table1.json").read_text(encoding="utf-8"))
    assert (PAPER / "README.md").read_text(encoding="utf-8") == readme(table)
