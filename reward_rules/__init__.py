"""Music-theory rules (rMT), their batched evaluator and the Table 1 statistics (SPEC §1, §4, §7)."""

from reward_rules.tokens import C_MAJOR, NO_EVENT, NOTE_OFF, NUM_CLASSES, Key, validate_melody

__all__ = ["C_MAJOR", "NOTE_OFF", "NO_EVENT", "NUM_CLASSES", "Key", "validate_melody"]
