"""Music-theory rules (rMT), their batched evaluator and the Table 1 statistics (docs/spec.md §1, §4, §7)."""

from reward_rules.evaluator import RuleEvaluator, music_theory_rewards
from reward_rules.registry import Rule, RuleSet
from reward_rules.rules import DEFAULT_RULES, RULE_NAMES
from reward_rules.stats import (
    TABLE1_KEYS,
    Interval,
    MelodyScores,
    extra_stats,
    score_melodies,
    table1_intervals,
    table1_intervals_of,
    table1_stats,
    table1_stats_of,
)
from reward_rules.tokens import C_MAJOR, NO_EVENT, NOTE_OFF, NUM_CLASSES, Key, validate_melody

__all__ = [
    "C_MAJOR",
    "DEFAULT_RULES",
    "NOTE_OFF",
    "NO_EVENT",
    "NUM_CLASSES",
    "RULE_NAMES",
    "TABLE1_KEYS",
    "Interval",
    "Key",
    "MelodyScores",
    "Rule",
    "RuleEvaluator",
    "RuleSet",
    "extra_stats",
    "music_theory_rewards",
    "score_melodies",
    "table1_intervals",
    "table1_intervals_of",
    "table1_stats",
    "table1_stats_of",
    "validate_melody",
]
