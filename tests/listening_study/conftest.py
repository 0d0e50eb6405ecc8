"""Fixtures of the listening-study tests: a small results folder, a study made from it, a live server."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from listening_study import prepare
from listening_study.app import create_app
from listening_study.server import Background

MODELS = ("note_rnn", "q", "psi", "g")
FAST_QPM = 1200.0  # 32 sixteenths in 0.4 s, so a browser plays a pair in under a second
MODEL_WORDS = r"note_rnn|note rnn|psi|Ψ|rl_only|rl only|\bq\b|\bg\b|tuner|model"
"""What a listener's page must never hold (case-insensitive): a model's name or that models are compared."""


def shows_a_model(page: str) -> str | None:
    """The first model word in a page's source, its opaque audio addresses set aside (None: there is none)."""
    page = re.sub(r"/audio/[A-Za-z0-9_-]+\.wav", "/audio/ID.wav", page)
    found = re.search(MODEL_WORDS, page, re.I)
    return None if found is None else page[max(0, found.start() - 40) : found.end() + 40]


def write_results(folder: Path, models=MODELS, melodies: int = 12, length: int = 32, seed: int = 0) -> Path:
    """A folder as rl-tuner reproduce leaves it: ``melodies_<model>.npz`` of random melodies."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for model in models:
        tokens = rng.integers(0, 38, size=(melodies, length))
        np.savez_compressed(folder / f"melodies_{model}.npz", primers=np.full(melodies, 14), melodies=tokens)
    return folder


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return write_results(tmp_path / "results")


@pytest.fixture
def make_study(results: Path, tmp_path: Path):
    """``make_study(**build_kwargs)``: a study folder built from ``results`` (fast audio)."""

    def make(**kwargs) -> Path:
        kwargs.setdefault("qpm", FAST_QPM)
        study = tmp_path / f"study{len(list(tmp_path.glob('study*')))}"
        prepare.build(results, study, **kwargs)
        return study

    return make


@pytest.fixture
def live(make_study) -> Iterator[tuple[Background, Path, str]]:
    """A study of 4 pairs + 2 checks served on loopback: ``(server, study folder, admin token)``."""
    study = make_study(pairs=4, per_model=3)
    token = secrets.token_urlsafe(12)
    with Background(create_app(study, token)) as server:
        yield server, study, token
