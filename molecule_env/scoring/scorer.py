"""Scoring SMILES in batches: every property of a molecule computed once, cached per unique SMILES, misses
scored in worker processes when a batch is large enough to pay for them.

A property that raises on a molecule does not stop scoring: it scores NaN there (the reward terms give
0), and the error is kept in :attr:`MoleculeScorer.errors` with the SMILES that caused it, and warned
about once per property.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from molecule_env.scoring.properties import DERIVED, PROPERTIES, parse, scaffold

PropertyFn = Callable[[Any], float]


@dataclass(frozen=True)
class Score:
    """The properties of one SMILES.

    :param smiles: as scored. :param valid: rdkit parses it. :param scaffold: Murcko scaffold SMILES
        (``None`` if invalid). :param values: property name -> value (NaN if invalid or it raised).
    :param errors: property name -> the error it raised.
    """

    smiles: str
    valid: bool
    scaffold: str | None
    values: Mapping[str, float]
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringError:
    """A property that raised: its name, the molecule, and the error."""

    name: str
    smiles: str
    error: str


def score_smiles(smiles: str, properties: Mapping[str, PropertyFn] = PROPERTIES) -> Score:
    """Every property of one SMILES (module docs); an invalid SMILES has NaN values and no scaffold."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = parse(smiles)
    derived = {name: rule for name, rule in DERIVED.items() if all(part in properties for part in rule[0])}
    if mol is None:
        return Score(smiles, False, None, dict.fromkeys([*properties, *derived], math.nan))
    values, errors = {}, {}
    for name, fn in properties.items():
        try:
            values[name] = float(fn(mol))
        except Exception as exc:  # any property bug: reported with the molecule, not fatal
            values[name], errors[name] = math.nan, f"{type(exc).__name__}: {exc}"
    for name, (parts, combine) in derived.items():
        values[name] = combine(*(values[part] for part in parts))  # NaN if a part raised
    try:
        scaf = scaffold(mol)
    except Exception as exc:
        scaf, errors["scaffold"] = None, f"{type(exc).__name__}: {exc}"
    return Score(smiles, True, scaf, values, errors)


def _score_many(smiles: Sequence[str], properties: Mapping[str, PropertyFn]) -> list[Score]:
    return [score_smiles(s, properties) for s in smiles]


def default_workers() -> int:
    """Worker processes for large batches: the CPUs this process may use, at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


class MoleculeScorer:
    """Cached, batched scoring of SMILES (module docs).

    :param properties: name -> function of an rdkit molecule (default: QED, SA, logP, ring penalty;
        penalised logP is derived from the last three). Functions must be picklable (module-level) for
        worker processes; if not, all scoring runs in this process.
    :param workers: worker processes (0: score in this process; ``None``: :func:`default_workers`).
    :param pool_min: misses in one batch below which scoring stays in this process (a pool round trip
        costs more than a few molecules).
    :param max_cache: cached SMILES at most; the cache is cleared when it is full.
    """

    def __init__(
        self,
        properties: Mapping[str, PropertyFn] | None = None,
        *,
        workers: int | None = None,
        pool_min: int = 64,
        max_cache: int = 1_000_000,
    ) -> None:
        self.properties = dict(PROPERTIES if properties is None else properties)
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.pool_min, self.max_cache = int(pool_min), int(max_cache)
        self.cache: dict[str, Score] = {}
        self.errors: list[ScoringError] = []
        self.hits = self.misses = 0
        self._warned: set[str] = set()
        self._pool: ProcessPoolExecutor | None = None
        self._picklable = self._check_picklable()

    def _check_picklable(self) -> bool:
        try:
            pickle.dumps(self.properties)
        except (pickle.PicklingError, AttributeError, TypeError):
            return False
        return True

    def __getstate__(self) -> dict[str, Any]:  # a scorer sent to another process starts without its pool
        state = dict(self.__dict__)
        state["_pool"] = None
        return state

    def score(self, smiles: Sequence[str]) -> list[Score]:
        """The :class:`Score` of each SMILES, in order; each unique uncached SMILES is scored once."""
        missing = list(dict.fromkeys(s for s in smiles if s not in self.cache))
        self.hits += len(smiles) - len(missing)  # cached, or a repeat within the batch
        self.misses += len(missing)
        if missing:
            if len(self.cache) + len(missing) > self.max_cache:
                self.cache.clear()
            for result in self._compute(missing):
                self.cache[result.smiles] = result
                for name, error in result.errors.items():
                    self._report(ScoringError(name, result.smiles, error))
        return [self.cache[s] for s in smiles]

    def _compute(self, smiles: list[str]) -> list[Score]:
        if self.workers == 0 or len(smiles) < self.pool_min or not self._picklable:
            return _score_many(smiles, self.properties)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        size = math.ceil(len(smiles) / (4 * self.workers))
        chunks = [smiles[i : i + size] for i in range(0, len(smiles), size)]
        futures = [self._pool.submit(_score_many, chunk, self.properties) for chunk in chunks]
        return [score for future in futures for score in future.result()]

    def _report(self, error: ScoringError) -> None:
        self.errors.append(error)
        if error.name not in self._warned:
            self._warned.add(error.name)
            warnings.warn(
                f"reward property {error.name!r} raised {error.error} on the molecule {error.smiles!r}; it scores 0 "
                "there (further errors are kept in MoleculeScorer.errors)",
                RuntimeWarning,
                stacklevel=3,
            )

    def close(self) -> None:
        """Stop the worker processes (they restart on the next large batch)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["MoleculeScorer", "PropertyFn", "Score", "ScoringError", "default_workers", "score_smiles"]
