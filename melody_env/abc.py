"""ABC text → symusic scores, many tunes per abc2midi run (docs/spec.md §2: the default corpus is ABC).

An ``.abc`` file holds many tunes, each starting with an ``X:`` line; text before the first ``X:`` is
the file header and applies to every tune. music21's ABC parser takes ≈0.1 s a tune, and
``symusic.Score.from_abc`` starts symusic's bundled ``abc2midi`` once per tune (≈3 ms, and it only
converts the first tune of a text). :func:`parse_tunes` instead renumbers a batch of tunes
``X:1..n``, runs the same bundled ``abc2midi`` once on the batch (one MIDI file per tune, its
messages captured) and reads the files with symusic: ≈15× faster. Grace notes and guitar chords
are ignored (``-NGRA -NGUI``): they are ornaments and accompaniment, not the melody.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import symusic

_TUNE_START = re.compile(r"^X:", re.MULTILINE)
_X_LINE = re.compile(r"^X:.*$", re.MULTILINE)
_FLAGS = ("-silent", "-NGRA", "-NGUI")
_TIMEOUT = 120.0


def read_text(path: str | Path) -> str:
    """Read an ABC file as text (UTF-8, falling back to Latin-1 as many old collections use).

    :param path: the ``.abc`` file.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_tunes(text: str) -> tuple[str, list[str]]:
    """Cut ABC text into its file header and tunes.

    :param text: the contents of an ``.abc`` file.
    :returns: ``(header, tunes)``: the non-comment lines before the first ``X:``, and one string per
        ``X:`` line in file order (empty when the text has none).
    """
    starts = [m.start() for m in _TUNE_START.finditer(text)]
    if not starts:
        return "", []
    header = "\n".join(
        line for line in text[: starts[0]].splitlines() if line.strip() and not line.lstrip().startswith("%")
    )
    ends = [*starts[1:], len(text)]
    return header, [text[a:b].rstrip() + "\n" for a, b in zip(starts, ends, strict=True)]


def _abc2midi() -> str:
    return os.environ.get("SYMUSIC_ABC2MIDI") or str(Path(symusic.__file__).parent / "bin" / "abc2midi")


def _run_batch(header: str, tunes: list[str]) -> list[symusic.Score | None]:
    with tempfile.TemporaryDirectory(prefix="rl-tuner-abc-") as tmp:
        numbered = [_X_LINE.sub(f"X:{i + 1}", tune, count=1) for i, tune in enumerate(tunes)]
        source = Path(tmp) / "t.abc"
        source.write_text((header + "\n\n" if header else "") + "\n\n".join(numbered), encoding="utf-8")
        try:
            subprocess.run(
                [_abc2midi(), source.name, *_FLAGS], cwd=tmp, capture_output=True, timeout=_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return [None] * len(tunes)
        scores = []
        for i in range(len(tunes)):
            path = Path(tmp) / f"t{i + 1}.mid"
            try:
                scores.append(symusic.Score(str(path)) if path.is_file() else None)
            except (RuntimeError, ValueError):
                scores.append(None)
        return scores


def parse_tunes(tunes: list[str], header: str = "") -> list[symusic.Score | None]:
    """Convert ABC tunes to tick-time scores with one ``abc2midi`` run; ``None`` for a tune it refuses.

    A tune missing from a batch run is retried alone, so one tune that stops abc2midi cannot take
    the rest of the batch with it.

    :param tunes: tune texts (from :func:`split_tunes`).
    :param header: the file header, written once above the tunes.
    """
    if not tunes:
        return []
    scores = _run_batch(header, tunes)
    if len(tunes) > 1:
        for i, score in enumerate(scores):
            if score is None:
                scores[i] = _run_batch(header, [tunes[i]])[0]
    return scores


__all__ = ["parse_tunes", "read_text", "split_tunes"]
