"""ABC text → symusic scores, one tune at a time (SPEC §2: the default folk corpus is ABC).

An ``.abc`` file holds many tunes, each starting with an ``X:`` line; text before the first ``X:`` is
the file header and applies to every tune. ``symusic.Score.from_abc`` runs its bundled abc2midi
in-process (≈2 ms a tune, against ≈0.1 s for music21's parser) but converts only the first tune of a
text, so :func:`split_tunes` cuts the file first. abc2midi prints its warnings on the C ``stdout``;
:func:`quiet_c_output` discards them.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import symusic

_TUNE_START = re.compile(r"^X:", re.MULTILINE)
_LIBC = ctypes.CDLL(None)


def read_text(path: str | Path) -> str:
    """Read an ABC file as text (UTF-8, falling back to Latin-1 as many old collections use).

    :param path: the ``.abc`` file.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_tunes(text: str) -> list[str]:
    """Cut ABC text into tunes, each prefixed with the file header (SPEC §2).

    :param text: the contents of an ``.abc`` file.
    :returns: one string per ``X:`` header, in file order; empty when the text has no ``X:`` line.
    """
    starts = [m.start() for m in _TUNE_START.finditer(text)]
    if not starts:
        return []
    header = "\n".join(
        line for line in text[: starts[0]].splitlines() if line.strip() and not line.lstrip().startswith("%")
    )
    prefix = header + "\n\n" if header else ""
    ends = [*starts[1:], len(text)]
    return [prefix + text[a:b].rstrip() + "\n" for a, b in zip(starts, ends, strict=True)]


@contextmanager
def quiet_c_output() -> Iterator[None]:
    """Send the C-level stdout and stderr to ``/dev/null`` while the block runs (abc2midi chatter)."""
    sys.stdout.flush()
    sys.stderr.flush()
    _LIBC.fflush(None)
    saved = (os.dup(1), os.dup(2))
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        _LIBC.fflush(None)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def parse_tune(tune: str) -> symusic.Score:
    """Convert one ABC tune to a score (ticks); call inside :func:`quiet_c_output` to mute abc2midi.

    :param tune: the text of one tune (from :func:`split_tunes`).
    :raises ValueError: when abc2midi cannot convert the tune.
    """
    try:
        return symusic.Score.from_abc(tune)
    except RuntimeError as err:
        raise ValueError(f"abc2midi could not convert the tune: {err}") from err


__all__ = ["parse_tune", "quiet_c_output", "read_text", "split_tunes"]
