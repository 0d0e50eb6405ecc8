"""The outside measures of one seed (``rl-tuner sweep --outside N``): its ``outside.json``.

The seed's model (its ``model.zip``; the shipped Note RNN for the ``note_rnn`` cell) composes N
melodies with the seed's melody seed (:func:`benchmarks.evaluate.compose`, a compose of its own, so
the melodies are the same right after training or later from ``model.zip``), and
:func:`benchmarks.outside.measures.outside_measures` compares them with the reference: the
validation openings of the corpus (docs/spec.md §2), built once per process (:func:`reference`).
``outside.json`` holds them with its own identity, the seed's ``stats.json`` identity plus the
outside melodies, pairs and key sample (:func:`outside_identity`); a file of another identity is
recomputed, never trusted.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.evaluate import Model, compose
from benchmarks.outside.measures import (
    DEFAULT_KEY_SAMPLE,
    DEFAULT_PAIRS,
    Reference,
    build_reference,
    outside_measures,
    reference_summary,
    validation_openings,
)
from benchmarks.outside.report import json_safe
from benchmarks.sweep.scoring import melody_seed
from melody_env.data import load_corpus
from sequence_env.atomic import atomic_write

OUTSIDE_FILE = "outside.json"


@dataclass(frozen=True)
class ReferenceSource:
    """Where a sweep's reference comes from.

    :param openings: returns the (m, 32) reference melodies.
    :param pairs: pairs of melodies per distance distribution.
    :param key_sample: melodies per set given to music21's key analysis.
    """

    openings: Callable[[], np.ndarray]
    pairs: int = DEFAULT_PAIRS
    key_sample: int = DEFAULT_KEY_SAMPLE


def corpus_openings() -> np.ndarray:
    """The validation openings of the music21 corpus (about 6 s from its cache)."""
    return validation_openings(load_corpus())


SOURCE = ReferenceSource(corpus_openings)
"""The reference of every sweep (read at each call, so a test can swap in a tiny one)."""


@functools.cache
def reference(source: ReferenceSource) -> Reference:
    """:func:`~benchmarks.outside.measures.build_reference` of ``source``, once per process (seed 0; about 6 s
    for the corpus's 1,268 openings)."""
    return build_reference(source.openings(), n_pairs=source.pairs, key_sample=source.key_sample)


def outside_identity(identity: Mapping[str, Any], melodies: int) -> dict[str, Any]:
    """What determines a seed's ``outside.json``: its ``stats.json`` identity plus ``melodies`` and the
    reference's pairs and key sample (:data:`SOURCE`)."""
    return {**identity, "outside_melodies": melodies, "pairs": SOURCE.pairs, "key_sample": SOURCE.key_sample}


def read_outside(folder: Path, identity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The seed's ``outside.json`` in ``folder``; ``None`` when missing or of another identity."""
    path = folder / OUTSIDE_FILE
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    return result if result["identity"] == identity else None


def write_outside(folder: Path, cell: str, identity: Mapping[str, Any], model: Model) -> dict[str, Any]:
    """Compose ``identity["outside_melodies"]`` melodies with ``model``, measure them, write ``outside.json``.

    :param folder: the seed's folder. :param cell: its cell key.
    :param identity: from :func:`outside_identity`; its ``seed`` seeds composing (:func:`melody_seed`),
        the pairs and the key sample.
    :param model: the seed's trained model, or the Note RNN.
    :return: what ``outside.json`` holds: ``cell``, ``identity``, ``outside`` (:func:`outside_measures`, NaN
        as null), ``reference`` (:func:`reference_summary`) and ``seconds``.
    """
    ref = reference(SOURCE)
    start = time.perf_counter()
    seed = identity["seed"]
    _, melodies = compose(model, identity["outside_melodies"], seed=melody_seed(seed))
    measures = outside_measures(melodies, ref, seed=seed, key_sample=SOURCE.key_sample)
    result = json_safe({"cell": cell, "identity": dict(identity), "outside": measures,
                        "reference": reference_summary(ref), "seconds": time.perf_counter() - start})  # fmt: skip
    with atomic_write(folder / OUTSIDE_FILE) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result


__all__ = [
    "OUTSIDE_FILE",
    "SOURCE",
    "ReferenceSource",
    "corpus_openings",
    "outside_identity",
    "read_outside",
    "reference",
    "write_outside",
]
