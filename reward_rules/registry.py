"""The rule registry: the melody's reward rules are terms of the generic registry (:mod:`sequence_env.terms`).

A rule is a function of the batch so far (docs/spec.md §4 notation: ``a`` = newest note, ``S`` = melody so
far + ``a``, beat = position of ``a``), with the musical key as its context::

    fn(melodies: np.ndarray, positions: np.ndarray, key: Key) -> np.ndarray  # (N,) float

Example, a user rule that punishes the lowest octave, added without editing the package::

    def no_low_octave(melodies, positions, key):
        a = melodies[np.arange(len(positions)), positions]
        return np.where((a >= 2) & (a < 14), -1.0, 0.0)

    rules = DEFAULT_RULES.without("autocorrelation").with_weight("key", 2.0)
    rules = rules.with_rule(Rule("no_low_octave", no_low_octave, weight=0.5))
"""

from __future__ import annotations

from sequence_env.terms import RewardTerm, RewardTerms, TermFn

Rule = RewardTerm
RuleFn = TermFn


class RuleSet(RewardTerms):
    """An ordered, immutable set of melody rules (:class:`sequence_env.terms.RewardTerms`)."""


__all__ = ["Rule", "RuleFn", "RuleSet"]
