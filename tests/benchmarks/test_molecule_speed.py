"""The molecule scoring speed command: its rows and, with --out, the file and its provenance (no timings
checked)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.molecules import speed


def test_out_writes_one_row_per_worker_count_and_the_provenance(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    assert speed.main(["--n", "30", "--workers", "0", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["workers"] for r in rows] == [0] and rows[0]["molecules"] <= 30
    assert rows[0]["cold_per_second"] > 0 and rows[0]["cached_per_second"] > 0
    record = json.loads((tmp_path / "speed.provenance.json").read_text())
    assert record["command"] == f"python -m benchmarks.molecules.speed --n 30 --workers 0 --out {out}"
