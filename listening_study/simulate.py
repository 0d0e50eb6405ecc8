"""Simulated listeners for tests, the load benchmark and the labelled pipeline demonstration.

A simulated listener takes the study over HTTP as a browser would (start, then one pair page and one rating
at a time) and prefers the melody with the higher mean rMT per note (docs/spec.md §4), with logistic noise.
Its ratings are no evidence of what people prefer: the report of a study with simulated listeners says so
at its top. They show that the pipeline recovers a known order.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from listening_study import db
from reward_rules import RuleEvaluator

_POSITION = re.compile(r"data-position='(\d+)'")
_AUDIO = re.compile(r"src='/audio/([A-Za-z0-9_-]+)\.wav'")


def mean_rmt(melodies: np.ndarray) -> np.ndarray:
    """Mean rMT per note of each row of ``melodies`` (N, T), all rows stepped together."""
    melodies = np.asarray(melodies, dtype=np.int64)
    evaluator = RuleEvaluator(len(melodies), length=melodies.shape[1])
    total = np.zeros(len(melodies))
    for t in range(melodies.shape[1]):
        total += evaluator.step(melodies[:, t]).sum(axis=1)
    return total / melodies.shape[1]


def melody_scores(folder: str | Path) -> dict[str, float]:
    """Audio id -> mean rMT per note, for every melody of the study with known notes."""
    con = db.connect(folder)
    try:
        rows = [(a, json.loads(t)) for a, t in con.execute("SELECT audio_id, tokens FROM melodies") if t]
    finally:
        con.close()
    if not rows:
        return {}
    by_length: dict[int, list[tuple[str, list[int]]]] = {}
    for audio_id, tokens in rows:
        by_length.setdefault(len(tokens), []).append((audio_id, tokens))
    out = {}
    for group in by_length.values():
        for (audio_id, _), value in zip(group, mean_rmt(np.array([t for _, t in group])), strict=True):
            out[audio_id] = float(value)
    return out


def simulated_likert(score_a: float, score_b: float, points: int, rng: np.random.Generator, scale: float) -> int:
    """A rating preferring the higher score: B with probability ``σ((score_b − score_a) / scale)``, more strongly
    the surer; equal scores (the same melody twice) give the middle."""
    middle = (points + 1) // 2
    if score_a == score_b:
        return middle
    p_b = 1.0 / (1.0 + np.exp(-(score_b - score_a) / scale))
    strength = 1 + min(middle - 2, int(abs(2 * p_b - 1) * (middle - 1)))
    return middle + strength if rng.random() < p_b else middle - strength


@dataclass
class Timings:
    """Seconds per request, by kind ("start", "page", "rate", "duplicate"); shared by threads."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, value: float) -> None:
        with self.lock:
            self.seconds.setdefault(kind, []).append(value)


class SimulatedListener:
    """One listener driven over HTTP/1.1 keep-alive; ``run()`` takes the whole study.

    :param scores: audio id -> score (missing ids score 0, so a tie of unknown melodies is a coin flip).
    :param duplicates: share of ratings sent a second time (the answer must be 409, duplicate).
    """

    def __init__(self, url: str, scores: Mapping[str, float], points: int, seed: int, scale: float = 0.5,
                 duplicates: float = 0.0, timings: Timings | None = None, timeout: float = 30.0) -> None:  # fmt: skip
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.scores, self.points, self.scale, self.duplicates = scores, points, scale, duplicates
        self.rng = np.random.default_rng(seed)
        self.timings = timings or Timings()
        self.cookie = ""
        self.acknowledged: list[dict[str, object]] = []

    def _request(self, kind: str, method: str, path: str, body: dict | str | None = None) -> tuple[int, str, dict]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if isinstance(body, str):
            data, headers["Content-Type"] = body, "application/x-www-form-urlencoded"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        start = time.perf_counter()
        self._conn.request(method, path, body=data, headers=headers)
        response = self._conn.getresponse()
        text = response.read().decode()
        self.timings.add(kind, time.perf_counter() - start)
        return response.status, text, dict(response.getheaders())

    def run(self) -> str:
        """Start, rate every pair, and return the listener's token."""
        status, _, headers = self._request("start", "POST", "/start", "consent=yes")
        self.cookie = headers["set-cookie"].split(";", 1)[0]
        while True:
            status, page, headers = self._request("page", "GET", "/pair")
            if status == 303:
                break
            position = int(_POSITION.search(page).group(1))
            audio_a, audio_b = _AUDIO.findall(page)
            likert = simulated_likert(self.scores.get(audio_a, 0.0), self.scores.get(audio_b, 0.0), self.points,
                                      self.rng, self.scale)  # fmt: skip
            body = {"submission_id": secrets.token_hex(16), "position": position, "likert": likert, "plays_a": 1,
                    "plays_b": 1, "seconds_a": 0.0, "seconds_b": 0.0}  # fmt: skip
            status, text, _ = self._request("rate", "POST", "/api/rate", body)
            if status != 200:
                raise RuntimeError(f"rating refused ({status}): {text}")
            self.acknowledged.append(body)
            if self.rng.random() < self.duplicates:
                status, text, _ = self._request("duplicate", "POST", "/api/rate", body)
                if status != 409 or not json.loads(text).get("duplicate"):
                    raise RuntimeError(f"a resent rating was not refused as a duplicate ({status}): {text}")
        self._conn.close()
        return self.cookie.split("=", 1)[1]


def run_listeners(url: str, folder: str | Path, count: int, seed: int = 0, duplicates: float = 0.0,
                  scale: float = 0.5, timeout: float = 120.0) -> tuple[list[SimulatedListener], Timings]:  # fmt: skip
    """``count`` simulated listeners at once, one thread each, against the server at ``url``; bounded by ``timeout``.

    :raises RuntimeError: a listener failed or the run took longer than ``timeout``.
    """
    con = db.connect(folder)
    try:
        points = int(db.read_meta(con)["points"])
    finally:
        con.close()
    scores, timings = melody_scores(folder), Timings()
    listeners = [SimulatedListener(url, scores, points, seed * 100_003 + k, scale, duplicates, timings)
                 for k in range(count)]  # fmt: skip
    errors: list[BaseException] = []

    def take(listener: SimulatedListener) -> None:
        try:
            listener.run()
        except BaseException as err:  # reported below, in the caller's thread
            errors.append(err)

    threads = [threading.Thread(target=take, args=(x,), daemon=True) for x in listeners]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"the simulated listeners did not finish within {timeout} s")
    if errors:
        raise RuntimeError(f"{len(errors)} simulated listener(s) failed; the first: {errors[0]}")
    return listeners, timings


def mark_simulated(folder: str | Path, tokens: list[str]) -> None:
    """Label these listeners ``simulated`` in the database (the report then says so at its top)."""
    con = db.connect(folder)
    try:
        with db.transaction(con):
            con.executemany("UPDATE listeners SET kind = 'simulated' WHERE token = ?", [(t,) for t in tokens])
    finally:
        con.close()


__all__ = ["SimulatedListener", "Timings", "mark_simulated", "mean_rmt", "melody_scores", "run_listeners",
           "simulated_likert"]  # fmt: skip
