"""The study database: one transaction per write, idempotent submits (also under a race), the recorded schedule."""

from __future__ import annotations

import threading

import pytest

from listening_study import db
from listening_study.schedule import listener_schedule

from .helpers import fingerprint


def _rating(submission: str = "abcdef0123", position: int = 1, likert: int = 5) -> db.Rating:
    return db.Rating(submission, position, likert, 1, 1, 0.4, 0.4)


@pytest.fixture
def study(make_study):
    folder = make_study(pairs=4, per_model=3)
    con = db.connect(folder)
    design = db.read_design(con)
    db.add_listener(con, "listener-one", design)
    return folder, con, design


def test_the_database_is_durable_by_configuration(study) -> None:
    _, con, _ = study
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert con.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_the_recorded_schedule_is_the_seeded_one(study) -> None:
    _, con, design = study
    second = db.add_listener(con, "listener-two", design)
    assert second == 1
    ids = db.audio_ids(con)
    for token, number in (("listener-one", 0), ("listener-two", 1)):
        rows = con.execute("SELECT position, audio_a, audio_b, check_kind FROM schedule WHERE listener = ? "
                           "ORDER BY position", (token,)).fetchall()  # fmt: skip
        expected = [(s.position, ids[s.a], ids[s.b], s.check) for s in listener_schedule(design, number)]
        assert rows == expected


def test_a_double_submit_is_stored_once(study) -> None:
    folder, con, design = study
    assert db.record(con, "listener-one", _rating(), 7, design.positions) >= 1
    before = fingerprint(folder)
    with pytest.raises(db.RatingRefused, match="already recorded") as refused:
        db.record(con, "listener-one", _rating(), 7, design.positions)
    assert refused.value.status == 409 and fingerprint(folder) == before


def test_a_failed_transaction_leaves_nothing(study) -> None:
    folder, con, _ = study
    before = fingerprint(folder)
    with pytest.raises(RuntimeError), db.transaction(con):
        con.execute("UPDATE listeners SET kind = 'changed'")
        raise RuntimeError("stop half-way")
    assert fingerprint(folder) == before


@pytest.mark.parametrize("same_submission", [True, False])
def test_racing_submits_of_one_pair_store_exactly_one(study, same_submission: bool) -> None:
    folder, _, design = study
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def submit(k: int) -> None:
        con = db.connect(folder)
        barrier.wait()
        try:
            sid = "abcdef0123" if same_submission else f"abcdef{k:04d}"
            outcomes.append(db.record(con, "listener-one", _rating(sid), 7, design.positions))
        except db.RatingRefused as refused:
            outcomes.append(refused.status)
        finally:
            con.close()

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(map(str, outcomes)).count("409") == 7 and len(outcomes) == 8
    assert db.connect(folder).execute("SELECT COUNT(*) FROM ratings").fetchone() == (1,)


def test_the_last_rating_marks_the_listener_finished(study) -> None:
    _, con, design = study
    for position in range(1, design.positions + 1):
        db.record(con, "listener-one", _rating(f"submit{position:04d}", position), 7, design.positions)
    (listener,) = db.listeners(con)
    assert listener["finished"] is not None and listener["ratings"] == design.positions
    assert db.next_position(con, "listener-one") == design.positions + 1
    assert db.next_position(con, "nobody") is None
