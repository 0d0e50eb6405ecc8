"""rMT for N melodies stepping together (``RuleEvaluator``) and for one melody (``music_theory_rewards``).

Both return the weighted per-rule breakdown, one column per rule of the ``RuleSet``; rMT (docs/spec.md §4)
is the row sum. ``music_theory_rewards`` drives a one-row ``RuleEvaluator``, so each rule has one
implementation and both give bit-identical numbers.
"""

from __future__ import annotations

import numpy as np

from reward_rules.registry import Rule, RuleSet
from reward_rules.rules import BUILTIN_RULE_FNS, DEFAULT_RULES
from reward_rules.tokens import C_MAJOR, NUM_CLASSES, Key, validate_melody
from sequence_env.evaluator import TermEvaluator


class RuleEvaluator(TermEvaluator):
    """Incremental, batched rMT: N melodies of ``length`` steps composed note by note (docs/spec.md §4).

    The melody instance of :class:`sequence_env.evaluator.TermEvaluator`: the key is the terms' context and
    the vocabulary is the 38 classes. The built-in rules keep per-row state, so a step costs the same at
    every beat; each row's numbers equal ``music_theory_rewards`` of its melody.

    :param num_melodies: N, the number of melodies composed together.
    :param length: notes per melody (32 in the paper); rule 2 and rule 9 use it.
    :param key: key of rules 1, 2 and 7 (default C major).
    :param rules: the rules and weights (default the nine rules of docs/spec.md §4, weight 1).
    """

    def __init__(
        self, num_melodies: int, length: int = 32, key: Key = C_MAJOR, rules: RuleSet | tuple[Rule, ...] = DEFAULT_RULES
    ) -> None:
        if not isinstance(key, Key):
            raise TypeError(f"key must be a reward_rules.Key (e.g. Key.parse('A minor')), got {type(key).__name__}")
        rules = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        super().__init__(num_melodies, length, key, rules, NUM_CLASSES, trusted=BUILTIN_RULE_FNS)
        self.key = key
        self.rules = rules
        self.num_melodies = self.num_rows

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Column names of ``step``'s output."""
        return self.rules.names

    @property
    def melodies(self) -> np.ndarray:
        """(N, length) int64 notes so far; the unused tail of a row is 0; a read-only view."""
        return self.sequences

    def check_actions(self, actions: object) -> np.ndarray:
        """``actions`` as int64 note classes, or the melody's ``ValueError``."""
        return validate_melody(actions, name="actions")


def music_theory_rewards(
    melody: np.ndarray, length: int = 32, key: Key = C_MAJOR, rules: RuleSet | tuple[Rule, ...] = DEFAULT_RULES
) -> np.ndarray:
    """Weighted per-rule rewards of one melody composed note by note (docs/spec.md §4).

    Step ``t`` sees ``melody[:t]`` and plays ``melody[t]`` at beat ``t``; stateful rules (the leap
    rule) are replayed from the start. rMT at step ``t`` is ``out[t].sum()``.

    :param melody: (T,) integer classes 0..37 with ``T <= length``.
    :param length: the melody length the rules assume (rule 2's last bar, rule 9's last note).
    :param key: key of rules 1, 2 and 7.
    :param rules: the rules and weights.
    :return: (T, n_rules) float64, columns in ``rules.names`` order.
    """
    melody = validate_melody(melody)
    if melody.ndim != 1:
        raise ValueError(f"melody must be 1-D (T,), got shape {melody.shape}; use RuleEvaluator for batches")
    evaluator = RuleEvaluator(1, length=length, key=key, rules=rules)
    if melody.shape[0] > evaluator.length:
        raise ValueError(f"melody has {melody.shape[0]} notes but length={length}; pass a larger length")
    out = np.empty((melody.shape[0], len(evaluator.rules)), dtype=np.float64)
    for t, note in enumerate(melody):
        out[t] = evaluator.step(note[None])[0]
    return out


__all__ = ["RuleEvaluator", "music_theory_rewards"]
