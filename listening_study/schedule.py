"""The balanced schedule of a listening study: which two melodies each listener hears, in which order, on which side.

Every listener's schedule is a pure function of the study's design and the listener's number, so a study can
be replayed from its recorded seed (docs/spec.md §11):

- the model pairs come from one study-wide stream made of rounds, each round every model pair once in an
  order drawn from the seed; listener ``k`` takes the stream's slots ``k·n … k·n + n − 1``, so over the whole
  study every model pair is asked equally often (counts differ by at most one);
- each model's melodies are used in turn, cycle after cycle in one drawn order, so within a model no melody
  is used more than once more than any other, and a listener hears a melody twice only when its model comes
  up more often than it has melodies;
- the listener's pairs are shuffled, each pair's sides A and B drawn, and the attention checks put at drawn
  positions (never the first), all from the seed and the listener's number.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CHECK_KINDS = ("identical", "anchor")
"""Attention checks: the same melody on both sides (answer: no preference), or a model's melody against
random notes (answer: the melody)."""
CHECK_POOL = 8
"""Attention-check items rendered per study: ``("check", 2j)`` and ``("check", 2j + 1)`` are two copies of check
melody ``j`` (under different audio ids), ``("anchor", j)`` is random notes; listeners take them in turn."""
_PAIRS, _CYCLE, _ORDER, _CHECKS = 1, 2, 3, 4  # seed-stream tags


@dataclass(frozen=True)
class Design:
    """What a study asks.

    :param models: the models compared, in the report's order.
    :param melodies: model -> number of its melodies in the study.
    :param pairs: model pairs rated by each listener (attention checks come on top).
    :param checks: the attention checks each listener gets, kinds from :data:`CHECK_KINDS`.
    :param seed: seeds every draw of the schedule.
    """

    models: tuple[str, ...]
    melodies: Mapping[str, int]
    pairs: int
    checks: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.models) < 2 or len(set(self.models)) != len(self.models):
            raise ValueError(f"a study needs at least two different models, got {list(self.models)}")
        missing = [m for m in self.models if self.melodies.get(m, 0) < 1]
        if missing:
            raise ValueError(f"no melodies for model(s) {', '.join(missing)}; give each model at least one")
        if self.pairs < 1:
            raise ValueError(f"pairs per listener must be at least 1, got {self.pairs}")
        unknown = sorted(set(self.checks) - set(CHECK_KINDS))
        if unknown:
            raise ValueError(f"unknown attention check(s) {unknown}; choose from {list(CHECK_KINDS)}")

    @property
    def positions(self) -> int:
        """Pairs shown to each listener, attention checks included."""
        return self.pairs + len(self.checks)


@dataclass(frozen=True)
class Slot:
    """One pair as a listener hears it.

    :param position: 1-based place in the listener's sequence.
    :param a: the melody on side A, as ``(model, index)``; for checks ``("check", k)`` or ``("anchor", k)``.
    :param b: the melody on side B, the same way.
    :param check: the attention check's kind (None: a model pair).
    """

    position: int
    a: tuple[str, int]
    b: tuple[str, int]
    check: str | None = None


def model_pairs(models: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of different models, in the models' order."""
    return list(itertools.combinations(models, 2))


def _rng(seed: int, *tags: int) -> np.random.Generator:
    return np.random.default_rng([seed, *tags])


def pair_stream(design: Design, stop: int) -> list[tuple[str, str]]:
    """The study-wide stream of model pairs, slots ``0 … stop − 1``: rounds of every pair once, each round shuffled."""
    pairs = model_pairs(design.models)
    stream: list[tuple[str, str]] = []
    for r in range(-(-stop // len(pairs))):
        stream.extend(pairs[i] for i in _rng(design.seed, _PAIRS, r).permutation(len(pairs)))
    return stream[:stop]


def _melody(design: Design, model: str, use: int) -> int:
    """The melody index of ``model``'s ``use``-th use: its melodies in one drawn order, cycle after cycle (so any
    ``count`` consecutive uses are different melodies)."""
    count = design.melodies[model]
    return int(_rng(design.seed, _CYCLE, design.models.index(model)).permutation(count)[use % count])


def listener_schedule(design: Design, listener: int) -> list[Slot]:
    """The pairs listener number ``listener`` (0, 1, …) hears, in order, attention checks included."""
    if listener < 0:
        raise ValueError(f"listener numbers start at 0, got {listener}")
    start = listener * design.pairs
    stream = pair_stream(design, start + design.pairs)
    uses = dict.fromkeys(design.models, 0)
    for a, b in stream[:start]:
        uses[a] += 1
        uses[b] += 1
    items = []
    for a, b in stream[start:]:
        items.append(((a, _melody(design, a, uses[a])), (b, _melody(design, b, uses[b])), None))
        uses[a] += 1
        uses[b] += 1
    rng = _rng(design.seed, _ORDER, listener)
    items = [items[i] for i in rng.permutation(len(items))]
    checks = _rng(design.seed, _CHECKS, listener)
    places = sorted(1 + checks.choice(design.positions - 1, size=len(design.checks), replace=False))
    for place, (k, kind) in zip(places, enumerate(design.checks), strict=True):
        n = (listener * len(design.checks) + k) % CHECK_POOL
        if kind == "identical":
            items.insert(int(place), (("check", 2 * n), ("check", 2 * n + 1), kind))
        else:
            model = design.models[int(checks.integers(len(design.models)))]
            real = (model, int(checks.integers(design.melodies[model])))
            items.insert(int(place), (real, ("anchor", n), kind))
    slots = []
    for position, (a, b, check) in enumerate(items, start=1):
        if rng.random() < 0.5:
            a, b = b, a
        slots.append(Slot(position, a, b, check))
    return slots


__all__ = ["CHECK_KINDS", "CHECK_POOL", "Design", "Slot", "listener_schedule", "model_pairs", "pair_stream"]
