"""One row of the molecule results table: MOSES's metrics, the reward terms, log p and KL of sampled molecules."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from benchmarks.molecules.sampling import Samples
from molecule_env.data import load_smiles
from molecule_env.metrics import Reference, moses_metrics, reference_statistics
from molecule_env.scoring.terms import TERM_FNS, MoleculeContext

PROPERTIES = ("qed", "sa", "logp", "penalized_logp", "ring_penalty")
TERMS = ("validity", "qed", "sa", "penalized_logp", "ring_penalty")  # the diversity term needs a run's memory


@lru_cache(maxsize=2)
def test_reference(size: int, seed: int = 0) -> Reference:
    """Statistics of a seeded subsample of ``size`` molecules of the MOSES test split (FCD included)."""
    return reference_statistics(load_smiles("moses:test", limit=size, seed=seed).smiles)


@lru_cache(maxsize=1)
def train_set() -> frozenset[str]:
    """The MOSES training SMILES as shipped (MOSES's novelty compares against them as they are)."""
    return frozenset(load_smiles("moses:train", check=False).smiles)


def molecules(samples: Samples, context: MoleculeContext) -> list[str | None]:
    """Each sample's SMILES (the text before its end token; ``None``: no end token or a special inside)."""
    positions = np.full(len(samples.tokens), samples.tokens.shape[1] - 1)
    return context.smiles(samples.tokens, positions)


def evaluate(
    samples: Samples,
    context: MoleculeContext,
    weights: dict[str, float],
    reference: Reference | None = None,
    train: frozenset[str] | None = None,
    ks: Sequence[int] = (1000, 10000),
) -> dict[str, float]:
    """MOSES metrics (:func:`molecule_env.metrics.moses_metrics`), the mean of each property over valid
    molecules, the mean of each term (0 for invalid ones) and of their weighted sum, mean log p under the
    prior and mean KL[π ‖ p] per molecule."""
    smiles = molecules(samples, context)
    row = moses_metrics([s or "" for s in smiles], reference, set(train) if train is not None else None, ks)
    valid = [score for score in context.scorer.score([s for s in smiles if s]) if score.valid]
    for name in PROPERTIES:
        values = np.array([score.values[name] for score in valid], dtype=np.float64)
        row[f"mean_{name}"] = float(np.nanmean(values)) if len(values) else float("nan")
    positions = np.full(len(samples.tokens), samples.tokens.shape[1] - 1)
    total = np.zeros(len(samples.tokens))
    for name in TERMS:
        values = TERM_FNS[name](samples.tokens, positions, context)
        row[f"term_{name}"] = float(values.mean())
        total += weights.get(name, 0.0) * values
    row["reward_terms"] = float(total.mean())
    row["mean_log_prior"] = float(samples.log_prior.mean())
    row["kl_to_prior"] = float((samples.log_policy - samples.log_prior).mean())
    row["samples"] = len(samples.tokens)
    return row


__all__ = ["PROPERTIES", "TERMS", "evaluate", "molecules", "test_reference", "train_set"]
