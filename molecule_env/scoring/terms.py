"""The molecule reward terms of the generic registry (:mod:`sequence_env.terms`), computed with rdkit.

A partial SMILES is no molecule (``c1cc`` does not parse, and whether a prefix will become a valid,
drug-like molecule is exactly what the policy has to learn), so every term here is given **at the end**
of an episode (``at="end"``): the step that draws the end token, or the last position. Per token, the
reward is then only the prior's ``log p`` (Eq. 3). The molecule is the text before the first end token;
an episode without one, or with a begin or padding token before it, has no molecule: it is invalid.
(In a fixed-length episode the end token does not end the episode: the terms are given at its last
position, and the tokens after the end token, padding under the prior, are not read.)

Each term maps the ending rows to SMILES (:meth:`MoleculeContext.smiles`), looks their properties up in
the shared scorer (each unique SMILES is scored once, :mod:`.scorer`), and returns:

- ``validity``: 1 for a molecule rdkit parses, 0 otherwise;
- ``qed``: QED in [0, 1]; ``sa``: ``(10 − SA) / 9`` in [0, 1] (1: easiest to make);
- ``penalized_logp``: logP − SA − max(0, largest ring − 6); ``ring_penalty``: −max(0, largest ring − 6);
- ``diversity``: 1 for a valid molecule whose scaffold's bucket in the memory has room, else 0 (REINVENT's
  diversity filter as an additive term, :mod:`.memory`);

and 0 for an invalid molecule, or where its property raised (kept in ``scorer.errors`` with the SMILES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from molecule_env.scoring.memory import ScaffoldMemory
from molecule_env.scoring.scorer import MoleculeScorer, Score
from molecule_env.tokens import SmilesEncoder
from sequence_env.terms import RewardTerm, RewardTerms


@dataclass
class MoleculeContext:
    """What the molecule terms share: the tokens' text, the scorer and its cache, the scaffold memory."""

    encoder: SmilesEncoder
    scorer: MoleculeScorer = field(default_factory=lambda: MoleculeScorer(workers=0))
    memory: ScaffoldMemory = field(default_factory=ScaffoldMemory)

    def smiles(self, sequences: np.ndarray, positions: np.ndarray) -> list[str | None]:
        """The SMILES of each row's episode: its tokens before the first end token (what follows is ignored,
        padding in a fixed-length episode); ``None`` where it holds no molecule (no end token, or a begin or
        padding token before it)."""
        vocabulary = self.encoder.vocabulary
        end, others = vocabulary.end, [i for i in vocabulary.specials if i != vocabulary.end]
        out: list[str | None] = []
        for row, position in zip(sequences, positions, strict=True):
            tokens = row[: int(position) + 1]
            ends = np.flatnonzero(tokens == end)
            body = tokens[: ends[0]] if len(ends) else None
            out.append(None if body is None or np.isin(body, others).any() else self.encoder.decode(body))
        return out

    def scores(self, sequences: np.ndarray, positions: np.ndarray) -> list[Score | None]:
        """The scorer's :class:`Score` of each row (``None``: no molecule)."""
        smiles = self.smiles(sequences, positions)
        scored = iter(self.scorer.score([s for s in smiles if s is not None]))
        return [None if s is None else next(scored) for s in smiles]


def _values(scores: list[Score | None], name: str) -> np.ndarray:
    values = np.array([np.nan if s is None else s.values[name] for s in scores], dtype=np.float64)
    return np.nan_to_num(values, nan=0.0)


def validity(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """1 for each row whose episode is a molecule rdkit parses, else 0."""
    return np.array([0.0 if s is None else float(s.valid) for s in context.scores(sequences, positions)])


def qed(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """QED of each row's molecule (0 if invalid)."""
    return _values(context.scores(sequences, positions), "qed")


def synthetic_accessibility(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """``(10 − SA) / 9`` of each row's molecule, in [0, 1] (0 if invalid)."""
    scores = context.scores(sequences, positions)
    sa = np.array([np.nan if s is None else s.values["sa"] for s in scores], dtype=np.float64)
    return np.nan_to_num((10.0 - sa) / 9.0, nan=0.0)


def penalized_logp(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """logP − SA − max(0, largest ring − 6) of each row's molecule (0 if invalid)."""
    return _values(context.scores(sequences, positions), "penalized_logp")


def ring_penalty(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """−max(0, largest ring − 6) of each row's molecule (0 if invalid)."""
    return _values(context.scores(sequences, positions), "ring_penalty")


def diversity(sequences: np.ndarray, positions: np.ndarray, context: MoleculeContext) -> np.ndarray:
    """1 for each valid molecule whose scaffold bucket has room (it is counted in), else 0."""
    scores = context.scores(sequences, positions)
    return context.memory.admit([s.scaffold if s is not None and s.valid else None for s in scores])


TERM_FNS = {
    "validity": validity,
    "qed": qed,
    "sa": synthetic_accessibility,
    "penalized_logp": penalized_logp,
    "ring_penalty": ring_penalty,
    "diversity": diversity,
}
DEFAULT_WEIGHTS = {"validity": 1.0, "qed": 1.0, "sa": 0.5, "penalized_logp": 0.0, "ring_penalty": 0.5, "diversity": 0.0}


def molecule_terms(weights: Mapping[str, float] | None = None) -> RewardTerms:
    """The six terms, all at the episode's end, with ``DEFAULT_WEIGHTS`` updated by ``weights``.

    :raises ValueError: an unknown term name.
    """
    chosen = dict(DEFAULT_WEIGHTS)
    for name, weight in (weights or {}).items():
        if name not in TERM_FNS:
            raise ValueError(f"unknown molecule term {name!r}; the terms are {tuple(TERM_FNS)}")
        chosen[name] = float(weight)
    return RewardTerms(RewardTerm(name, fn, chosen[name], at="end") for name, fn in TERM_FNS.items())


__all__ = [
    "DEFAULT_WEIGHTS",
    "TERM_FNS",
    "MoleculeContext",
    "diversity",
    "molecule_terms",
    "penalized_logp",
    "qed",
    "ring_penalty",
    "synthetic_accessibility",
    "validity",
]
