"""HTTP helpers of the listening-study tests: a small client over http.client and a database fingerprint."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from listening_study import db


class Client:
    """One browser-like client: keeps the listener cookie, returns ``(status, headers, body text)``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.cookie = ""

    def request(self, method: str, path: str, body: object = None, raw: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        conn.close()
        got = {k.lower(): v for k, v in response.getheaders()}
        if "set-cookie" in got:
            self.cookie = got["set-cookie"].split(";", 1)[0]
        return response.status, got, content

    def start(self) -> str:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, headers, _ = self.request("POST", "/start", raw=b"consent=yes", headers=form)
        assert status == 303 and headers["location"] == "/pair"
        return self.cookie.split("=", 1)[1]

    def pair(self) -> tuple[int, list[str], str]:
        status, _, content = self.request("GET", "/pair")
        assert status == 200, status
        text = content.decode()
        position = int(re.search(r"data-position='(\d+)'", text).group(1))
        return position, re.findall(r"src='/audio/([A-Za-z0-9_-]+)\.wav'", text), text

    def rate(self, position: int, likert: int = 3, submission: str | None = None, **fields):
        body = {"submission_id": submission or secrets.token_hex(16), "position": position, "likert": likert,
                "plays_a": 1, "plays_b": 1, "seconds_a": 0.4, "seconds_b": 0.4, **fields}  # fmt: skip
        status, _, content = self.request("POST", "/api/rate", body)
        return status, json.loads(content)


def fingerprint(study: Path) -> list:
    """Every row of every table of the study's database, to tell whether a request changed anything."""
    con = sqlite3.connect(study / db.DB_NAME)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()) for t in tables]
    finally:
        con.close()
