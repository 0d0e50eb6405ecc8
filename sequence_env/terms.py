"""The reward-term registry: named, weighted, batched reward terms that users can switch, reweigh or extend.

A term is a function of the batch of sequences so far (docs/spec.md §10)::

    fn(sequences: np.ndarray, positions: np.ndarray, context) -> np.ndarray  # (N,) float

``sequences`` is ``(N, length)`` int64, read-only; row ``i`` holds the episode so far in
``sequences[i, :positions[i] + 1]``, its newest token at ``positions[i]``; entries after that must not
be read. ``context`` is the task's (a musical key for melodies, a scoring cache for molecules).

A term given ``at="step"`` is evaluated for every row at every step. A term given ``at="end"`` is
evaluated only for the rows whose episode ends at that step (the end token, or the last position), and
is 0 elsewhere: the term then sees only those rows (``N`` is their number), for terms such as a
molecule's validity that a partial sequence does not have.

A term that needs memory between steps is ``stateful``: ``fn`` is then a factory ``fn(num_rows)``
returning an object with ``reset(mask)`` (rows where the bool mask is True start over) and the call
above. Optionally the callable may also have ``rewards(a, positions, sequences, context)`` giving the same
rewards from the newest tokens ``a`` (N,), which the evaluator already holds and passes instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

TermFn = Callable[..., np.ndarray]
WHEN = ("step", "end")


@dataclass(frozen=True)
class RewardTerm:
    """One named reward term with a weight (its reward is multiplied by ``weight``).

    :param name: unique name, used for ``rules/<name>`` info and logging keys.
    :param fn: ``fn(sequences, positions, context) -> (N,)`` rewards, or, if ``stateful``, a factory
        ``fn(num_rows)`` returning an object with ``reset(mask)`` and that call.
    :param weight: multiplier of the term's reward; 0 keeps the term (and its state) but mutes it.
    :param stateful: whether ``fn`` is a factory of per-batch state.
    :param at: ``"step"`` (every step) or ``"end"`` (the step that ends the episode only).
    """

    name: str
    fn: TermFn
    weight: float = 1.0
    stateful: bool = False
    at: str = "step"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a rule needs a non-empty string name, got {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"rule {self.name!r}: fn must be callable, got {type(self.fn).__name__}")
        weight = float(self.weight)
        if not np.isfinite(weight):
            raise ValueError(f"rule {self.name!r}: weight must be finite, got {self.weight}")
        if self.at not in WHEN:
            raise ValueError(f"rule {self.name!r}: at must be one of {WHEN}, got {self.at!r}")
        object.__setattr__(self, "weight", weight)

    def bind(self, num_rows: int) -> Any:
        """The callable an evaluator of ``num_rows`` rows uses (a fresh state if stateful)."""
        return self.fn(num_rows) if self.stateful else self.fn


class RewardTerms:
    """An ordered, immutable set of terms with unique names; the ``with_*``/``without`` methods copy.

    :param terms: the terms in evaluation (and output column) order.
    """

    def __init__(self, terms: Iterable[RewardTerm]) -> None:
        self._terms = tuple(terms)
        for term in self._terms:
            if not isinstance(term, RewardTerm):
                raise TypeError(
                    f"{type(self).__name__} holds RewardTerm (Rule) objects, got {type(term).__name__}; "
                    "wrap functions in Rule(name, fn)"
                )
        names = [term.name for term in self._terms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique, repeated: {dupes}")

    @property
    def names(self) -> tuple[str, ...]:
        """Term names, in column order."""
        return tuple(term.name for term in self._terms)

    @property
    def weights(self) -> np.ndarray:
        """Term weights as a float64 array, in column order."""
        return np.array([term.weight for term in self._terms], dtype=np.float64)

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[RewardTerm]:
        return iter(self._terms)

    def __getitem__(self, name: str) -> RewardTerm:
        self._require(name)
        return next(term for term in self._terms if term.name == name)

    def _require(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(f"no rule named {name!r}; rules are {self.names}")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{t.name}={t.weight:g}" for t in self._terms) + ")"

    def with_weight(self, name: str, weight: float) -> RewardTerms:
        """A copy with term ``name`` reweighted."""
        self._require(name)
        return type(self)(replace(t, weight=weight) if t.name == name else t for t in self._terms)

    def without(self, *names: str) -> RewardTerms:
        """A copy without the named terms."""
        for name in names:
            self._require(name)
        return type(self)(t for t in self._terms if t.name not in names)

    def with_rule(self, term: RewardTerm) -> RewardTerms:
        """A copy with ``term`` appended (its name must be new; use ``without`` first to replace one)."""
        return type(self)((*self._terms, term))

    with_term = with_rule


__all__ = ["WHEN", "RewardTerm", "RewardTerms", "TermFn"]
