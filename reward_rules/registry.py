"""The rule registry: named, weighted, batched reward rules that users can switch, reweigh or extend.

A rule is a function of the batch so far (docs/spec.md §4 notation: ``a`` = newest note, ``S`` = melody so
far + ``a``, beat = position of ``a``)::

    fn(melodies: np.ndarray, positions: np.ndarray, key: Key) -> np.ndarray  # (N,) float

``melodies`` is ``(N, length)`` int64, read-only; row ``i`` holds S in ``melodies[i, :positions[i] + 1]``
(its newest note at ``positions[i]``); entries after that must not be read. ``length`` is
``melodies.shape[1]``. A rule that needs memory between steps is ``stateful``: ``fn`` is then a
factory ``fn(num_melodies)`` returning an object with ``reset(mask)`` (rows where the bool mask is
True start over) and the call above, which sees every note of each row in order.

Optionally, the callable may also have a method ``rewards(a, positions, melodies, key)`` giving the
same rewards from the newest notes ``a = melodies[arange(N), positions]`` (N,), which
:class:`~reward_rules.reward.RuleEvaluator` already holds and then passes instead of calling ``fn``
(the built-in rules do this: gathering ``a`` in each rule costs more than some rules themselves).

Example, a user rule that punishes the lowest octave, added without editing the package::

    def no_low_octave(melodies, positions, key):
        a = melodies[np.arange(len(positions)), positions]
        return np.where((a >= 2) & (a < 14), -1.0, 0.0)

    rules = DEFAULT_RULES.without("autocorrelation").with_weight("key", 2.0)
    rules = rules.with_rule(Rule("no_low_octave", no_low_octave, weight=0.5))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

RuleFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Rule:
    """One named reward rule with a weight (its reward is multiplied by ``weight``).

    :param name: unique name, used for ``rules/<name>`` logging keys.
    :param fn: ``fn(melodies, positions, key) -> (N,)`` rewards, or, if ``stateful``, a factory
        ``fn(num_melodies)`` returning an object with ``reset(mask)`` and that call.
    :param weight: multiplier of the rule's reward; 0 keeps the rule (and its state) but mutes it.
    :param stateful: whether ``fn`` is a factory of per-batch state (e.g. the leap rule, docs/spec.md §4 rule 8).
    """

    name: str
    fn: RuleFn
    weight: float = 1.0
    stateful: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a rule needs a non-empty string name, got {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"rule {self.name!r}: fn must be callable, got {type(self.fn).__name__}")
        weight = float(self.weight)
        if not np.isfinite(weight):
            raise ValueError(f"rule {self.name!r}: weight must be finite, got {self.weight}")
        object.__setattr__(self, "weight", weight)

    def bind(self, num_melodies: int) -> Any:
        """The callable an evaluator of ``num_melodies`` rows uses (a fresh state if stateful)."""
        return self.fn(num_melodies) if self.stateful else self.fn


class RuleSet:
    """An ordered, immutable set of rules with unique names; the ``with_*``/``without`` methods copy.

    :param rules: the rules in evaluation (and output column) order.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = tuple(rules)
        for rule in self._rules:
            if not isinstance(rule, Rule):
                raise TypeError(
                    f"RuleSet holds Rule objects, got {type(rule).__name__}; wrap functions in Rule(name, fn)"
                )
        names = [rule.name for rule in self._rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique, repeated: {dupes}")

    @property
    def names(self) -> tuple[str, ...]:
        """Rule names, in column order."""
        return tuple(rule.name for rule in self._rules)

    @property
    def weights(self) -> np.ndarray:
        """Rule weights as a float64 array, in column order."""
        return np.array([rule.weight for rule in self._rules], dtype=np.float64)

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __getitem__(self, name: str) -> Rule:
        self._require(name)
        return next(rule for rule in self._rules if rule.name == name)

    def _require(self, name: str) -> None:
        if name not in self.names:
            raise KeyError(f"no rule named {name!r}; rules are {self.names}")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __repr__(self) -> str:
        return "RuleSet(" + ", ".join(f"{r.name}={r.weight:g}" for r in self._rules) + ")"

    def with_weight(self, name: str, weight: float) -> RuleSet:
        """A copy with rule ``name`` reweighted."""
        self._require(name)
        return RuleSet(replace(r, weight=weight) if r.name == name else r for r in self._rules)

    def without(self, *names: str) -> RuleSet:
        """A copy without the named rules."""
        for name in names:
            self._require(name)
        return RuleSet(r for r in self._rules if r.name not in names)

    def with_rule(self, rule: Rule) -> RuleSet:
        """A copy with ``rule`` appended (its name must be new; use ``without`` first to replace one)."""
        return RuleSet((*self._rules, rule))


__all__ = ["Rule", "RuleFn", "RuleSet"]
