"""The paper's Table 1 (docs/spec.md §7): 100,000 melodies per model, fractions as reported.

The paper gives no RL-only column; its Figure 2 puts the RL-only model's mean log p(a|s) near
log(1/38) ≈ −3.64.
"""

from __future__ import annotations

PAPER_MODELS: tuple[str, ...] = ("note_rnn", "q", "psi", "g")

# statistic -> (Note RNN, Q, Ψ, G), fractions (percentages / 100) and signed autocorrelations.
PAPER_TABLE1: dict[str, tuple[float, float, float, float]] = {
    "notes_excessively_repeated": (0.633, 0.0, 0.0002, 0.0003),
    "autocorrelation_lag1": (-0.16, -0.11, -0.10, 0.55),
    "autocorrelation_lag2": (0.14, 0.03, -0.01, 0.31),
    "autocorrelation_lag3": (-0.13, 0.03, 0.01, 0.17),
    "notes_not_in_key": (0.001, 0.01, 0.006, 0.287),
    "melodies_starting_with_tonic": (0.009, 0.288, 0.287, 0.0),
    "leaps_resolved": (0.772, 0.911, 0.900, 0.522),
    "unique_max_note": (0.647, 0.564, 0.594, 0.371),
    "unique_min_note": (0.494, 0.519, 0.583, 0.565),
    "notes_in_motif": (0.059, 0.757, 0.738, 0.693),
    "notes_in_repeated_motif": (0.00007, 0.0011, 0.0009, 0.0001),
}

# Figure 2: mean log p(a|s) of the RL-only model ends near uniform over 38 classes.
PAPER_RL_ONLY_LOG_PRIOR = -3.65


def paper_value(statistic: str, model: str) -> float | None:
    """The paper's Table 1 value for ``model``, or None where the paper has none (RL-only, extras)."""
    if model not in PAPER_MODELS or statistic not in PAPER_TABLE1:
        return None
    return PAPER_TABLE1[statistic][PAPER_MODELS.index(model)]


__all__ = ["PAPER_MODELS", "PAPER_RL_ONLY_LOG_PRIOR", "PAPER_TABLE1", "paper_value"]
