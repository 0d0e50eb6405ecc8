"""atomic_write replaces a file whole, leaves it untouched on error, and writes ordinary modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sequence_env.atomic import atomic_write


def test_replaces_whole_file_with_readable_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "result.txt"
    with atomic_write(target) as tmp:
        tmp.write_text("new")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["result.txt"]


def test_error_keeps_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]
