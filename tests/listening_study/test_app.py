"""The study server on loopback: the listener's path, blindness, bad input refused with 4xx and nothing changed."""

from __future__ import annotations

import html
import json
import re
import secrets
import sqlite3

import pytest

from listening_study import db

from .conftest import shows_a_model
from .helpers import Client, fingerprint


def test_a_listener_goes_from_consent_to_thanks_and_resumes_on_reload(live) -> None:
    server, study, _ = live
    client = Client(server.url)
    status, _, page = client.request("GET", "/")
    assert status == 200 and b"I agree" in page and b"Continue where" not in page
    token = client.start()
    seen = []
    for expected in range(1, 7):
        position, audio, text = client.pair()
        assert position == expected and f"Pair {expected} of 6" in text and len(audio) == 2
        assert client.pair()[:2] == (position, audio)  # a reload shows the same pair
        seen.append(text)
        status, answer = client.rate(position, likert=expected)
        assert status == 200 and answer["next"] == ("/thanks" if expected == 6 else "/pair")
    status, headers, _ = client.request("GET", "/pair")
    assert status == 303 and headers["location"] == "/thanks"
    assert b"Thank you" in client.request("GET", "/thanks")[2]
    rows = [r for r in db.ratings(db.connect(study)) if r["listener"] == token]
    assert [r["likert"] for r in rows] == [1, 2, 3, 4, 5, 6] and [r["position"] for r in rows] == list(range(1, 7))
    assert all(r["page_seconds"] is not None and r["page_seconds"] >= 0 for r in rows)
    for text in seen:
        assert shows_a_model(text) is None, shows_a_model(text)


def test_home_page_offers_to_continue(live) -> None:
    server, _, _ = live
    client = Client(server.url)
    client.start()
    client.rate(client.pair()[0])
    status, _, page = client.request("GET", "/")
    assert status == 200 and b"Continue where you left off (pair 2 of 6)" in page


def test_audio_reveals_nothing_about_its_model(live) -> None:
    server, study, _ = live
    con = db.connect(study)
    by_model = {}
    for audio_id, model in con.execute("SELECT audio_id, model FROM melodies"):
        by_model.setdefault(model, []).append(audio_id)
    client = Client(server.url)
    shapes = set()
    for model, ids in by_model.items():
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", a) for a in ids)
        for audio_id in ids[:2]:
            status, headers, data = client.request("GET", f"/audio/{audio_id}.wav")
            assert status == 200
            headers.pop("date", None)
            shapes.add(json.dumps(sorted(headers.items())))
            assert model not in data[:64].decode("latin-1")
    assert len(shapes) == 1, shapes  # the same headers (size included) for every model's melody
    shape = shapes.pop()
    assert "last-modified" not in shape and "etag" not in shape and "content-disposition" not in shape


def _chunks(data: bytes) -> list[bytes]:
    """The chunk ids of a RIFF/WAVE file."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    out, at = [], 12
    while at < len(data):
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        out.append(data[at : at + 4])
        at += 8 + size + size % 2
    return out


def test_audio_files_hold_samples_only(live) -> None:
    server, study, _ = live
    client = Client(server.url)
    for (audio_id,) in db.connect(study).execute("SELECT audio_id FROM melodies"):
        status, _, data = client.request("GET", f"/audio/{audio_id}.wav")
        assert status == 200 and _chunks(data) == [b"fmt ", b"data"]


def _state(server, study):
    client = Client(server.url)
    client.start()
    position, _, _ = client.pair()
    return client, position, fingerprint(study)


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"position": 99}, 404, "unknown pair 99"),
        ({"position": 2}, 409, "pair 2 is not reached yet"),
        ({"likert": 8}, 422, "likert must be an integer from 1 to 7"),
        ({"likert": 0}, 422, "likert must be an integer from 1 to 7"),
        ({"likert": "7"}, 422, "likert must be an integer"),
        ({"likert": 3.5}, 422, "likert must be an integer"),
        ({"plays_b": 0}, 422, "play both melodies to the end"),
        ({"seconds_a": "long"}, 422, "seconds_a must be a number"),
        ({"submission_id": "../x"}, 422, "submission_id must be 8 to 64 letters or digits"),
    ],
)
def test_bad_ratings_are_refused_and_change_nothing(live, change, status, message) -> None:
    server, study, _ = live
    client, position, before = _state(server, study)
    got, answer = client.rate(**{"position": position, **change})
    assert got == status and message in answer["error"]
    assert fingerprint(study) == before


def test_a_replayed_submission_is_refused_and_not_duplicated(live) -> None:
    server, study, _ = live
    client, position, _ = _state(server, study)
    submission = secrets.token_hex(16)
    assert client.rate(position, submission=submission)[0] == 200
    after = fingerprint(study)
    status, answer = client.rate(position, submission=submission)
    assert status == 409 and answer["duplicate"] and "already recorded" in answer["error"]
    status, answer = client.rate(position)  # a new id for a pair already rated
    assert status == 409 and "pair 1 is already rated" in answer["error"] and "duplicate" not in answer
    assert fingerprint(study) == after
    assert sqlite3.connect(study / db.DB_NAME).execute("SELECT COUNT(*) FROM ratings").fetchone() == (1,)


def test_requests_without_a_listener_or_with_bad_bodies_are_refused(live) -> None:
    server, study, _ = live
    before = fingerprint(study)
    stranger = Client(server.url)
    status, _, content = stranger.request("POST", "/start", raw=b"")  # the consent box not ticked
    assert status == 400 and b"Please tick the box" in content and not stranger.cookie
    status, _, content = stranger.request("POST", "/api/rate", {"position": 1})
    assert status == 401 and b"start the study from its first page" in content
    stranger.cookie = "listener=forged"
    assert stranger.request("POST", "/api/rate", {"position": 1})[0] == 401
    assert stranger.request("GET", "/pair")[1]["location"] == "/"
    client = Client(server.url)
    client.start()
    after_start = fingerprint(study)
    assert client.request("POST", "/api/rate", raw=b"{not json")[0] == 400
    assert client.request("POST", "/api/rate", body=[1, 2])[0] == 422
    assert fingerprint(study) == after_start and len(after_start) == len(before)


@pytest.mark.parametrize(
    "path",
    [
        "/audio/../../etc/passwd",
        "/audio/..%2F..%2Fetc%2Fpasswd",
        "/audio/%2e%2e/%2e%2e/etc/passwd",
        "/audio/study.sqlite",
        "/audio/..%2Fstudy.sqlite",
        "/study.sqlite",
        "/audio/unknownunknownunknown0.wav",
        "/../../etc/passwd",
    ],
)
def test_no_file_outside_the_audio_ids_is_served(live, path) -> None:
    server, study, _ = live
    before = fingerprint(study)
    status, _, content = Client(server.url).request("GET", path)
    assert 400 <= status < 500 and b"root:" not in content and b"SQLite" not in content
    assert fingerprint(study) == before


def test_the_experimenter_views_need_the_token(live) -> None:
    server, _, token = live
    client = Client(server.url)
    client.start()
    client.rate(client.pair()[0], likert=6)
    for path in ("/admin", "/admin/ratings.csv", "/admin/ratings.json"):
        assert client.request("GET", path)[0] == 403
        assert client.request("GET", f"{path}?token=wrong")[0] == 403
        assert client.request("GET", f"{path}?token={token}")[0] == 200
    assert client.request("GET", "/admin/other?token=" + token)[0] == 404
    status, _, content = client.request("GET", "/admin/ratings.json", headers={"Authorization": f"Bearer {token}"})
    document = json.loads(content)
    assert status == 200 and [r["likert"] for r in document["ratings"]] == [6]
    assert document["ratings"][0]["model_a"] in document["study"]["models"]
    status, _, content = client.request("GET", f"/admin?token={token}")
    text = html.unescape(content.decode())
    assert '"ratings": 1' in text and '"listeners": 1' in text
