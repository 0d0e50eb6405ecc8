"""The ratings as CSV and JSON: one row per rating with its listener and the two models behind A and B."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from listening_study import db
from sequence_env.atomic import atomic_write


def ratings_csv(con: sqlite3.Connection) -> str:
    """Every rating as CSV, columns :data:`listening_study.db.RATING_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=db.RATING_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(db.ratings(con))
    return buffer.getvalue()


def ratings_json(con: sqlite3.Connection) -> str:
    """The study's settings, listeners and ratings as one JSON document."""
    document = {"study": db.read_meta(con), "listeners": db.listeners(con), "ratings": db.ratings(con)}
    return json.dumps(document, indent=1)


def write_exports(con: sqlite3.Connection, out: str | Path) -> list[Path]:
    """Write ``ratings.csv`` and ``ratings.json`` into ``out`` (atomically) and return their paths."""
    paths = []
    for name, text in (("ratings.csv", ratings_csv(con)), ("ratings.json", ratings_json(con))):
        path = Path(out) / name
        with atomic_write(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


__all__ = ["ratings_csv", "ratings_json", "write_exports"]
