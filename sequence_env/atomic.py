"""Atomic file writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, rename it onto ``path``.

    Folders are created. On an error the temporary file is removed and ``path`` is left as it was.

    :param path: the file to (re)write.
    :param suffix: suffix of the temporary file, for writers that pick a format by extension.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results and checkpoints are ordinary readable files
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


__all__ = ["atomic_write"]
