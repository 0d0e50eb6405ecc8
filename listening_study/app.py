"""The study's web server: a Starlette app, served by uvicorn (docs/spec.md §11).

Listeners reach only their own schedule (through an HttpOnly cookie holding their random token) and the
study's audio by opaque id; the experimenter's pages need the token printed at start. Audio is held in memory
and answered with the same headers for every melody (no file name, date or ETag), so neither the address nor
the answer tells one model's melody from another's. Every refused request gets a 4xx answer naming the
problem and changes nothing in the database.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import threading
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from listening_study import db, export, pages
from listening_study.prepare import AUDIO_DIR

COOKIE = "listener"
_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_AUDIO_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
_INTEGER_FIELDS = ("position", "likert", "plays_a", "plays_b")
_NUMBER_FIELDS = ("seconds_a", "seconds_b")


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_PAGE_HEADERS)


def _refuse(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=_PAGE_HEADERS)


def parse_rating(body: object) -> db.Rating:
    """The rating in a JSON body, its types checked.

    :raises db.RatingRefused: 422 naming the missing or mistyped field.
    """
    if not isinstance(body, dict):
        raise db.RatingRefused(422, "the body must be a JSON object")
    sid = body.get("submission_id")
    if not isinstance(sid, str) or not 8 <= len(sid) <= 64 or not sid.isalnum():
        raise db.RatingRefused(422, "submission_id must be 8 to 64 letters or digits")
    values: dict[str, float] = {}
    for name in (*_INTEGER_FIELDS, *_NUMBER_FIELDS):
        value = body.get(name)
        integer = isinstance(value, int) and not isinstance(value, bool)
        number = integer or (isinstance(value, float) and math.isfinite(value))
        if not (integer if name in _INTEGER_FIELDS else number):
            kind = "an integer" if name in _INTEGER_FIELDS else "a number"
            raise db.RatingRefused(422, f"{name} must be {kind}, got {json.dumps(value)}")
        values[name] = value
    return db.Rating(sid, **values)  # type: ignore[arg-type]


class Study:
    """The study folder behind the app: its settings, audio (in memory) and one database connection per thread."""

    def __init__(self, folder: str | Path, admin_token: str) -> None:
        self.folder = Path(folder)
        self.admin_token = admin_token
        self._local = threading.local()
        con = self.connection()
        self.design = db.read_design(con)
        meta = db.read_meta(con)
        self.points = int(meta["points"])
        self.seconds = float(meta["melody_seconds"])
        self.audio = {
            audio_id: (self.folder / AUDIO_DIR / f"{audio_id}.wav").read_bytes()
            for audio_id in db.audio_ids(con).values()
        }

    def connection(self) -> sqlite3.Connection:
        """This thread's connection to ``study.sqlite``."""
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = db.connect(self.folder)
        return con

    def listener(self, request: Request) -> str | None:
        """The listener's token from the cookie, if it names a listener of this study."""
        token = request.cookies.get(COOKIE)
        if not token or db.next_position(self.connection(), token) is None:
            return None
        return token

    def admin(self, request: Request) -> bool:
        """Whether the request carries the experimenter's token (``?token=`` or ``Authorization: Bearer``)."""
        given = request.query_params.get("token") or request.headers.get("authorization", "").removeprefix("Bearer ")
        return secrets.compare_digest(given.encode(), self.admin_token.encode())


def create_app(folder: str | Path, admin_token: str) -> Starlette:
    """The Starlette app serving the study in ``folder`` (made by :func:`listening_study.prepare.build`)."""
    study = Study(folder, admin_token)
    positions = study.design.positions

    def home(request: Request) -> Response:
        token = study.listener(request)
        resume = None if token is None else db.next_position(study.connection(), token)
        if resume is not None and resume > positions:
            return RedirectResponse("/thanks", 303)
        return _html(pages.consent_page(positions, study.seconds, resume))

    def _start(request: Request, form: bytes) -> Response:
        if study.listener(request) is not None:
            return RedirectResponse("/pair", 303)
        if parse_qs(form.decode("utf-8", "replace")).get("consent") != ["yes"]:
            return _html(pages.consent_page(positions, study.seconds, refused=True), 400)
        token = secrets.token_urlsafe(24)
        db.add_listener(study.connection(), token, study.design)
        response = RedirectResponse("/pair", 303)
        response.set_cookie(COOKIE, token, max_age=90 * 86400, httponly=True, samesite="strict")
        return response

    async def start(request: Request) -> Response:
        form = await request.body()
        return await run_in_threadpool(_start, request, form)

    def pair(request: Request) -> Response:
        token = study.listener(request)
        if token is None:
            return RedirectResponse("/", 303)
        con = study.connection()
        position = db.next_position(con, token)
        if position > positions:
            return RedirectResponse("/thanks", 303)
        audio_a, audio_b = db.pair(con, token, position)
        db.mark_served(con, token, position)
        return _html(pages.pair_page(position, positions, audio_a, audio_b, study.points))

    def _rate(request: Request, body: bytes) -> Response:
        token = study.listener(request)
        if token is None:
            return _refuse(401, "no listener: start the study from its first page (cookies must be on)")
        try:
            rating = parse_rating(json.loads(body))
        except (ValueError, UnicodeDecodeError) as err:
            if isinstance(err, db.RatingRefused):
                return _refuse(err.status, str(err))
            return _refuse(400, "the body must be JSON")
        try:
            row = db.record(study.connection(), token, rating, study.points, positions)
        except db.RatingRefused as refused:
            extra = {"duplicate": True, "next": "/pair"} if refused.duplicate else {}
            return _refuse(refused.status, str(refused), **extra)
        done = rating.position == positions
        return JSONResponse({"recorded": row, "next": "/thanks" if done else "/pair"}, headers=_PAGE_HEADERS)

    async def rate(request: Request) -> Response:
        body = await request.body()
        return await run_in_threadpool(_rate, request, body)

    def audio(request: Request) -> Response:
        name = request.path_params["name"]
        data = study.audio.get(name.removesuffix(".wav")) if name.endswith(".wav") else None
        if data is None:
            return PlainTextResponse("no such audio", 404, headers=_PAGE_HEADERS)
        return Response(data, media_type="audio/wav", headers=_AUDIO_HEADERS)

    def thanks(request: Request) -> Response:
        return _html(pages.thanks_page(positions))

    def admin(request: Request) -> Response:
        if not study.admin(request):
            return PlainTextResponse("the experimenter's token is needed (?token=…, printed at start)", 403)
        con = study.connection()
        people = db.listeners(con)
        kind = request.path_params.get("kind")
        if kind == "ratings.csv":
            return Response(export.ratings_csv(con), media_type="text/csv", headers=_PAGE_HEADERS)
        if kind == "ratings.json":
            return Response(export.ratings_json(con), media_type="application/json", headers=_PAGE_HEADERS)
        if kind is not None:
            return PlainTextResponse("unknown export; use ratings.csv or ratings.json", 404)
        summary = {
            "models": list(study.design.models),
            "pairs per listener": positions,
            "listeners": len(people),
            "finished": sum(1 for p in people if p["finished"]),
            "ratings": sum(int(p["ratings"]) for p in people),
        }
        return _html(pages.admin_page(summary, people, study.admin_token))

    routes = [
        Route("/", home),
        Route("/start", start, methods=["POST"]),
        Route("/pair", pair),
        Route("/api/rate", rate, methods=["POST"]),
        Route("/audio/{name}", audio),
        Route("/thanks", thanks),
        Route("/admin", admin),
        Route("/admin/{kind}", admin),
    ]
    return Starlette(routes=routes)


__all__ = ["COOKIE", "Study", "create_app", "parse_rating"]
