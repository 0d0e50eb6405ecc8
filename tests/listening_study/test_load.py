"""Load and crash: 20 simulated listeners at once against a real server process; a killed server loses nothing.

The timings are the benchmark's business (``rl-tuner study load``, listening_study/results/load.md), not
asserted here.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

from listening_study import db
from listening_study.load import run_load, serve_subprocess

from .helpers import Client


def test_twenty_listeners_at_once_lose_and_duplicate_nothing(results: Path, tmp_path: Path) -> None:
    out = run_load(results, tmp_path / "study", listeners=20, pairs=100, duplicates=0.05, timeout=150)
    assert out["acknowledged"] == out["stored"] == out["distinct"] == 2000
    assert out["duplicates_sent"] > 0 and out["rate"]["n"] == 2000  # every resend refused (run_load checks)


def test_a_killed_server_keeps_every_acknowledged_rating(make_study) -> None:
    study = make_study(pairs=200, checks=(), per_model=3)
    acknowledged: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def listen(url: str) -> None:
        client = Client(url)
        token = client.start()
        while not stop.is_set():
            try:
                position = client.pair()[0]
                status, _ = client.rate(position)
            except (OSError, AssertionError):
                return  # the server is gone
            if status == 200:
                with lock:
                    acknowledged.append((token, position))

    with serve_subprocess(study) as (url, _, proc):
        threads = [threading.Thread(target=listen, args=(url,), daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-stream: ratings are in flight
        proc.wait(10)
        stop.set()
        for thread in threads:
            thread.join(20)
    assert len(acknowledged) >= 40
    con = sqlite3.connect(study / db.DB_NAME)
    stored = set(con.execute("SELECT listener, position FROM ratings").fetchall())
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= len(threads)  # at most the ratings in flight, unacknowledged


def test_a_restarted_server_resumes_each_listener_under_a_new_experimenter_token(make_study) -> None:
    study = make_study(pairs=4, per_model=3)
    with serve_subprocess(study) as (url, first, _):
        client = Client(url)
        client.start()
        assert client.rate(client.pair()[0])[0] == 200
        assert client.request("GET", f"/admin?token={first}")[0] == 200
    with serve_subprocess(study) as (url, second, _):
        client.port = int(url.rsplit(":", 1)[1])
        assert client.pair()[0] == 2
        assert second != first and client.request("GET", f"/admin?token={first}")[0] == 403
        assert client.request("GET", f"/admin/ratings.csv?token={second}")[2].decode().count("\n") == 2
