"""The tables of a Markdown report as JSON (what ``write_report`` writes beside every benchmark report)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.timing import markdown_tables, write_report


def test_tables_keep_their_section_columns_and_rows(tmp_path: Path, capsys) -> None:
    lines = ["# Report", "", "## 3. Training", "", "| agent | steps/s |", "|---|---|", "| Q | **11,635** |",
             "| DQN | 3,065 |", "", "Q / DQN: **3.80×**.", "", "| other | x |", "|---|---|", "| a | 1 |"]  # fmt: skip
    tables = markdown_tables(lines)
    assert tables == [
        {"section": "3. Training", "columns": ["agent", "steps/s"], "rows": [["Q", "11,635"], ["DQN", "3,065"]]},
        {"section": "3. Training", "columns": ["other", "x"], "rows": [["a", "1"]]},
    ]
    write_report(tmp_path / "speed.md", lines)
    assert (tmp_path / "speed.md").read_text().startswith("# Report\n")
    data = json.loads((tmp_path / "speed.json").read_text())
    assert data["tables"] == tables and "Q / DQN: **3.80×**." in data["lines"]
    assert "# Report" in capsys.readouterr().out
