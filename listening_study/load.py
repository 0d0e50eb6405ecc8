"""The load benchmark: simulated listeners at once against a real server process on loopback.

``rl-tuner study load SOURCE`` builds a study in a temporary folder, starts ``rl-tuner study serve`` on it as
a child process (127.0.0.1, a free port), lets ``--listeners`` simulated listeners take ``--pairs`` pairs each
at once (one thread each, some ratings sent twice), then checks the database: every acknowledged rating
once, every resend refused, nothing else. It prints (or writes with ``--out``) the response times.
"""

from __future__ import annotations

import os
import platform
import queue
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from listening_study import db, prepare
from listening_study.oneline import OneLineParser
from listening_study.simulate import run_listeners
from sequence_env.atomic import atomic_write

_READY = re.compile(r"Experimenter \(keep this private\): (http://[^/]+)/admin\?token=(\S+)")


@contextmanager
def serve_subprocess(study: str | Path, timeout: float = 60.0) -> Iterator[tuple[str, str, subprocess.Popen]]:
    """``python -m listening_study serve STUDY --port 0`` as a child: yields ``(url, admin token, process)``.

    The child is stopped (SIGTERM, then SIGKILL) when the block ends, unless it already has.
    :raises RuntimeError: the server did not print its address within ``timeout`` seconds.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "listening_study", "serve", str(study), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"the study server did not start within {timeout} s: {''.join(seen)}") from None
            seen.append(line)
            found = _READY.search(line)
            if found:
                break
        yield found.group(1), found.group(2), proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``seconds``, in milliseconds."""
    return float(np.percentile(np.asarray(seconds), q) * 1000)


def run_load(source: str | Path, folder: str | Path, listeners: int = 20, pairs: int = 100,
             duplicates: float = 0.05, seed: int = 0, timeout: float = 300.0) -> dict[str, object]:  # fmt: skip
    """Build a study in ``folder``, serve it from a child process, run the listeners, check the database.

    :returns: counts (``acknowledged``, ``stored``, ``duplicates_sent``, ``distinct``) and timings.
    :raises RuntimeError: a listener failed, the run overran ``timeout``, or the database disagrees.
    """
    prepare.build(source, folder, pairs=pairs, checks=(), seed=seed, per_model=10)
    with serve_subprocess(folder) as (url, _, _):
        start = time.perf_counter()
        people, timings = run_listeners(url, folder, listeners, seed=seed, duplicates=duplicates, timeout=timeout)
        wall = time.perf_counter() - start
    sent = {(p.cookie.split("=", 1)[1], int(r["position"]), int(r["likert"]), str(r["submission_id"]))
            for p in people for r in p.acknowledged}  # fmt: skip
    con = sqlite3.connect(Path(folder) / db.DB_NAME)
    try:
        stored = con.execute("SELECT listener, position, likert, submission_id FROM ratings").fetchall()
    finally:
        con.close()
    if set(stored) != sent or len(stored) != len(sent):
        raise RuntimeError(f"the database holds {len(stored)} ratings, {len(sent)} were acknowledged")
    out: dict[str, object] = {
        "listeners": listeners, "pairs": pairs, "acknowledged": len(sent), "stored": len(stored),
        "distinct": len({(t, p) for t, p, _, _ in stored}),
        "duplicates_sent": len(timings.seconds.get("duplicate", [])), "wall_seconds": wall,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }  # fmt: skip
    for kind, values in timings.seconds.items():
        out[kind] = {"n": len(values), "median_ms": percentile_ms(values, 50), "p99_ms": percentile_ms(values, 99)}
    return out


def markdown(result: dict[str, object], command: str) -> str:
    """The benchmark's figures as a short Markdown note."""
    lines = [
        "# Listening study under load",
        "",
        f"`{command}` on {platform.machine()} with {os.cpu_count()} logical CPUs (shared with other jobs), "
        "server and clients on loopback: the server is its own process (`rl-tuner study serve`, uvicorn, "
        "SQLite in WAL mode with synchronous=FULL); the listeners are threads of the benchmark's process.",
        "",
        f"- {result['listeners']} simulated listeners at once, {result['pairs']} pairs each: "
        f"{result['acknowledged']:,} ratings acknowledged, {result['stored']:,} in the database "
        f"({result['distinct']:,} distinct listener/pair), {result['duplicates_sent']} resent ratings all refused "
        "(409) and none stored twice.",
        f"- Wall time {result['wall_seconds']:.1f} s; the machine's 1-minute load average at the end "
        f"{result['load_average']:.1f} (other jobs included).",
        "",
        "| request | count | median (ms) | 99th percentile (ms) |",
        "|---|---|---|---|",
    ]
    for kind, title in (("rate", "POST /api/rate"), ("page", "GET /pair"), ("duplicate", "resent rating"),
                        ("start", "POST /start")):  # fmt: skip
        if kind in result:
            row = result[kind]
            lines.append(f"| {title} | {row['n']:,} | {row['median_ms']:.1f} | {row['p99_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``rl-tuner study load SOURCE [--listeners 20] [--pairs 100] [--out FILE]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = OneLineParser(prog="rl-tuner study load", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a folder written by rl-tuner reproduce or rl-tuner demo")
    parser.add_argument("--listeners", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of ratings sent twice")
    parser.add_argument("--out", help="write the note here (default: print it)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_load(args.source, Path(tmp) / "study", args.listeners, args.pairs, args.duplicates)
    text = markdown(result, "rl-tuner study load " + shlex.join(argv))
    if args.out:
        with atomic_write(args.out) as path:
            path.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


__all__ = ["main", "markdown", "percentile_ms", "run_load", "serve_subprocess"]
