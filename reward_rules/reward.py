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


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class RuleEvaluator:
    """Incremental, batched rMT: N melodies of ``length`` steps composed note by note (docs/spec.md §4).

    Each ``step(actions)`` appends one note to every row and evaluates every rule for every row with
    numpy (no loop over rows); the built-in rules keep per-row state, so a step costs the same at
    every beat. Rows can be restarted independently with ``reset(mask)``, so rows may sit at
    different positions; each row's numbers equal ``music_theory_rewards`` of its melody.

    :param num_melodies: N, the number of melodies composed together.
    :param length: notes per melody (32 in the paper); rule 2 and rule 9 use it.
    :param key: key of rules 1, 2 and 7 (default C major).
    :param rules: the rules and weights (default the nine rules of docs/spec.md §4, weight 1).
    """

    def __init__(
        self, num_melodies: int, length: int = 32, key: Key = C_MAJOR, rules: RuleSet | tuple[Rule, ...] = DEFAULT_RULES
    ) -> None:
        self.num_melodies = _positive_int(num_melodies, "num_melodies")
        self.length = _positive_int(length, "length")
        if not isinstance(key, Key):
            raise TypeError(f"key must be a reward_rules.Key (e.g. Key.parse('A minor')), got {type(key).__name__}")
        self.key = key
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        weights = self.rules.weights
        self._weights = None if (weights == 1.0).all() else weights  # None: nothing to multiply
        self._fns = [rule.bind(self.num_melodies) for rule in self.rules]
        self._from_notes = [getattr(fn, "rewards", None) for fn in self._fns]  # see registry: optional
        self._checked = [rule.fn not in BUILTIN_RULE_FNS for rule in self.rules]  # user rules: check output
        self._stateful = [fn for rule, fn in zip(self.rules, self._fns, strict=True) if rule.stateful]
        self._buffer = np.zeros((self.num_melodies, self.length), dtype=np.int64)
        self._positions = np.zeros(self.num_melodies, dtype=np.int64)
        self._top = 0  # max(self._positions)
        self._rows = np.arange(self.num_melodies)
        self._view = self._buffer.view()
        self._view.flags.writeable = False

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Column names of ``step``'s output."""
        return self.rules.names

    @property
    def positions(self) -> np.ndarray:
        """(N,) number of notes each row holds (= the beat of its next note); a read-only view."""
        view = self._positions.view()
        view.flags.writeable = False
        return view

    @property
    def melodies(self) -> np.ndarray:
        """(N, length) int64 notes so far; the unused tail of a row is 0; a read-only view."""
        return self._view

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Restart all rows, or the rows where the (N,) bool ``mask`` is True."""
        if mask is None:
            mask = np.ones(self.num_melodies, dtype=bool)
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (self.num_melodies,):
            raise ValueError(
                f"mask must be a bool array of shape ({self.num_melodies},), got {mask.dtype} {mask.shape}"
            )
        self._buffer[mask] = 0
        self._positions[mask] = 0
        self._top = int(self._positions.max())
        for state in self._stateful:
            state.reset(mask)

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Append ``actions`` (N,) to the rows and return the weighted rewards (N, n_rules) float64.

        :raises ValueError: on invalid classes, a wrong shape, or a row that already holds ``length``
            notes (reset it first).
        """
        if not (type(actions) is np.ndarray and actions.dtype == np.int64):
            actions = validate_melody(actions, name="actions")
        if actions.shape != self._positions.shape:
            raise ValueError(f"actions must have shape ({self.num_melodies},), got {actions.shape}")
        if actions.view(np.uint64).max() >= NUM_CLASSES:  # one check for both ends (negatives wrap)
            validate_melody(actions, name="actions")
        if self._top >= self.length:
            raise ValueError(
                f"row {int(np.argmax(self._positions >= self.length))} already holds {self.length} notes; "
                "call reset(mask) before stepping it again"
            )
        positions = self._positions.copy()
        positions.flags.writeable = False
        self._buffer[self._rows, positions] = actions
        out = np.empty((self.num_melodies, len(self._fns)), dtype=np.float64)
        for j, fn in enumerate(self._fns):
            from_notes = self._from_notes[j]
            if from_notes is None:
                reward = fn(self._view, positions, self.key)
            else:
                reward = from_notes(actions, positions, self._view, self.key)
            if self._checked[j]:
                reward = np.asarray(reward, dtype=np.float64)
                if reward.shape != (self.num_melodies,):
                    raise ValueError(
                        f"rule {self.rules.names[j]!r} returned shape {reward.shape}, expected ({self.num_melodies},)"
                    )
            out[:, j] = reward
        self._positions += 1
        self._top += 1
        if self._weights is not None:
            out *= self._weights
        return out


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
