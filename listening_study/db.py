"""The study's SQLite database: its design, melodies, listeners, schedules and one row per rating.

Every write is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) in WAL mode with ``synchronous=FULL``, so a
rating is on disk before the server acknowledges it and survives a crash of the server or the machine. A
rating carries the client's submission id under a UNIQUE constraint and the pair under UNIQUE(listener,
position): a double submit finds its first copy and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from listening_study.schedule import Design, Slot, listener_schedule

DB_NAME = "study.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS melodies (
    audio_id TEXT PRIMARY KEY, model TEXT NOT NULL, item INTEGER NOT NULL, tokens TEXT, source TEXT,
    UNIQUE (model, item));
CREATE TABLE IF NOT EXISTS listeners (
    token TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL DEFAULT 'human',
    started REAL NOT NULL, finished REAL);
CREATE TABLE IF NOT EXISTS schedule (
    listener TEXT NOT NULL REFERENCES listeners(token), position INTEGER NOT NULL,
    audio_a TEXT NOT NULL REFERENCES melodies(audio_id), audio_b TEXT NOT NULL REFERENCES melodies(audio_id),
    check_kind TEXT, served REAL, PRIMARY KEY (listener, position));
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY, submission_id TEXT NOT NULL UNIQUE, listener TEXT NOT NULL REFERENCES listeners(token),
    position INTEGER NOT NULL, likert INTEGER NOT NULL, plays_a INTEGER NOT NULL, plays_b INTEGER NOT NULL,
    seconds_a REAL NOT NULL, seconds_b REAL NOT NULL, page_seconds REAL, created REAL NOT NULL,
    UNIQUE (listener, position), FOREIGN KEY (listener, position) REFERENCES schedule(listener, position));
"""


class RatingRefused(ValueError):
    """A rating the database did not record; ``status`` is the HTTP status that says why, ``duplicate`` whether
    the same submission is already recorded (a resend the client may take as success)."""

    def __init__(self, status: int, message: str, duplicate: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.duplicate = duplicate


@dataclass(frozen=True)
class Rating:
    """One submitted rating (the listener's client measures plays and seconds).

    :param submission_id: the client's id of this submission (the same on a resend).
    :param position: the pair's place in the listener's sequence, 1-based.
    :param likert: 1 = A much more pleasing … ``points`` = B much more pleasing.
    """

    submission_id: str
    position: int
    likert: int
    plays_a: int
    plays_b: int
    seconds_a: float
    seconds_b: float


def connect(folder: str | Path, name: str = DB_NAME) -> sqlite3.Connection:
    """Open (creating if needed) ``folder/name`` in WAL mode with ``synchronous=FULL``; autocommit."""
    path = Path(folder) / name
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA busy_timeout=30000")
    return con


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any error rolls everything back."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def create(con: sqlite3.Connection, design: Design, meta: Mapping[str, object], melodies: Sequence[tuple]) -> None:
    """Write a new study: its design and settings (``meta``) and its melodies ``(audio_id, model, item, tokens,
    source)``, tokens a list of classes or None."""
    with transaction(con):
        for statement in SCHEMA.split(";"):
            if statement.strip():
                con.execute(statement)
        settings = {
            "models": list(design.models),
            "melodies": dict(design.melodies),
            "pairs": design.pairs,
            "checks": list(design.checks),
            "seed": design.seed,
            **meta,
        }
        con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in settings.items()])
        con.executemany(
            "INSERT INTO melodies VALUES (?, ?, ?, ?, ?)",
            [(a, m, i, None if t is None else json.dumps([int(x) for x in t]), s) for a, m, i, t, s in melodies],
        )


def read_meta(con: sqlite3.Connection) -> dict[str, object]:
    """The study's settings, as written by :func:`create`."""
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}


def read_design(con: sqlite3.Connection) -> Design:
    """The study's :class:`~listening_study.schedule.Design`."""
    meta = read_meta(con)
    return Design(tuple(meta["models"]), dict(meta["melodies"]), int(meta["pairs"]), tuple(meta["checks"]),
                  int(meta["seed"]))  # fmt: skip


def audio_ids(con: sqlite3.Connection) -> dict[tuple[str, int], str]:
    """(model, item) -> audio id, for every melody of the study (checks and anchors included)."""
    return {(m, i): a for a, m, i in con.execute("SELECT audio_id, model, item FROM melodies")}


def add_listener(con: sqlite3.Connection, token: str, design: Design, kind: str = "human") -> int:
    """Register a listener under ``token`` and write their schedule; return their number (0, 1, …)."""
    ids = audio_ids(con)
    with transaction(con):
        number = con.execute("SELECT COALESCE(MAX(number) + 1, 0) FROM listeners").fetchone()[0]
        con.execute("INSERT INTO listeners (token, number, kind, started) VALUES (?, ?, ?, ?)",
                    (token, number, kind, time.time()))  # fmt: skip
        slots: list[Slot] = listener_schedule(design, number)
        con.executemany(
            "INSERT INTO schedule (listener, position, audio_a, audio_b, check_kind) VALUES (?, ?, ?, ?, ?)",
            [(token, s.position, ids[s.a], ids[s.b], s.check) for s in slots],
        )
    return int(number)


def next_position(con: sqlite3.Connection, token: str) -> int | None:
    """The listener's first unrated position (None: unknown listener; past the last position: finished)."""
    if con.execute("SELECT 1 FROM listeners WHERE token = ?", (token,)).fetchone() is None:
        return None
    rated = con.execute("SELECT COUNT(*) FROM ratings WHERE listener = ?", (token,)).fetchone()[0]
    return int(rated) + 1


def pair(con: sqlite3.Connection, token: str, position: int) -> tuple[str, str] | None:
    """The audio ids on sides A and B of the listener's pair at ``position`` (None: no such pair)."""
    row = con.execute("SELECT audio_a, audio_b FROM schedule WHERE listener = ? AND position = ?",
                      (token, position)).fetchone()  # fmt: skip
    return None if row is None else (row[0], row[1])


def mark_served(con: sqlite3.Connection, token: str, position: int) -> None:
    """Note when the pair was first shown (kept on reloads), for the page's seconds in the rating row."""
    with transaction(con):
        con.execute("UPDATE schedule SET served = ? WHERE listener = ? AND position = ? AND served IS NULL",
                    (time.time(), token, position))  # fmt: skip


def record(con: sqlite3.Connection, token: str, rating: Rating, points: int, positions: int) -> int:
    """Store one rating in one transaction and return its row id.

    :raises RatingRefused: 404 unknown listener or pair, 422 a value out of range, 409 a submission already
        recorded or a pair already rated or not the listener's current pair. Nothing is written then.
    """
    if not 1 <= rating.likert <= points:
        raise RatingRefused(422, f"likert must be an integer from 1 to {points}, got {rating.likert}")
    if min(rating.plays_a, rating.plays_b) < 1 or min(rating.seconds_a, rating.seconds_b) < 0:
        raise RatingRefused(422, "play both melodies to the end before rating (plays must be at least 1)")
    if not 1 <= rating.position <= positions:
        raise RatingRefused(404, f"unknown pair {rating.position}; this study has pairs 1 to {positions}")
    with transaction(con):
        again = con.execute("SELECT id FROM ratings WHERE submission_id = ?", (rating.submission_id,)).fetchone()
        if again is not None:
            raise RatingRefused(409, f"submission already recorded (rating {again[0]}); nothing changed", True)
        current = next_position(con, token)
        if current is None:
            raise RatingRefused(404, "unknown listener; start the study from its first page")
        if rating.position != current:
            state = "already rated" if rating.position < current else "not reached yet"
            raise RatingRefused(409, f"pair {rating.position} is {state}; the current pair is {current}")
        served = con.execute("SELECT served FROM schedule WHERE listener = ? AND position = ?",
                             (token, rating.position)).fetchone()[0]  # fmt: skip
        now = time.time()
        cursor = con.execute(
            "INSERT INTO ratings (submission_id, listener, position, likert, plays_a, plays_b, seconds_a, "
            "seconds_b, page_seconds, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rating.submission_id, token, rating.position, rating.likert, rating.plays_a, rating.plays_b,
             rating.seconds_a, rating.seconds_b, None if served is None else now - served, now),
        )  # fmt: skip
        if rating.position == positions:
            con.execute("UPDATE listeners SET finished = ? WHERE token = ?", (now, token))
    return int(cursor.lastrowid)


RATING_COLUMNS = (
    "rating", "listener", "listener_number", "listener_kind", "position", "check_kind", "audio_a", "audio_b",
    "model_a", "item_a", "model_b", "item_b", "likert", "plays_a", "plays_b", "seconds_a", "seconds_b",
    "page_seconds", "created", "submission_id",
)  # fmt: skip
"""The columns of :func:`ratings` (and of the exported CSV)."""


def ratings(con: sqlite3.Connection) -> list[dict[str, object]]:
    """Every rating joined with its listener and its pair's models, in the order they were recorded."""
    rows = con.execute(
        "SELECT r.id, r.listener, l.number, l.kind, r.position, s.check_kind, s.audio_a, s.audio_b, ma.model, "
        "ma.item, mb.model, mb.item, r.likert, r.plays_a, r.plays_b, r.seconds_a, r.seconds_b, r.page_seconds, "
        "r.created, r.submission_id FROM ratings r JOIN listeners l ON l.token = r.listener "
        "JOIN schedule s ON s.listener = r.listener AND s.position = r.position "
        "JOIN melodies ma ON ma.audio_id = s.audio_a JOIN melodies mb ON mb.audio_id = s.audio_b ORDER BY r.id"
    )
    return [dict(zip(RATING_COLUMNS, row, strict=True)) for row in rows]


def listeners(con: sqlite3.Connection) -> list[dict[str, object]]:
    """Every listener: token, number, kind, start and finish times, ratings given."""
    rows = con.execute(
        "SELECT l.token, l.number, l.kind, l.started, l.finished, COUNT(r.id) FROM listeners l "
        "LEFT JOIN ratings r ON r.listener = l.token GROUP BY l.token ORDER BY l.number"
    )
    keys = ("listener", "number", "kind", "started", "finished", "ratings")
    return [dict(zip(keys, row, strict=True)) for row in rows]


__all__ = [
    "DB_NAME",
    "RATING_COLUMNS",
    "Rating",
    "RatingRefused",
    "add_listener",
    "audio_ids",
    "connect",
    "create",
    "listeners",
    "mark_served",
    "next_position",
    "pair",
    "ratings",
    "read_design",
    "read_meta",
    "record",
    "transaction",
]
