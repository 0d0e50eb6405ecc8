"""Scoring molecules with rdkit: the properties (:mod:`.properties`), the cached, batched scorer
(:mod:`.scorer`), the scaffold memory of the diversity filter (:mod:`.memory`) and the reward terms
(:mod:`.terms`)."""

from molecule_env.scoring.memory import ScaffoldMemory
from molecule_env.scoring.scorer import MoleculeScorer, Score, ScoringError, score_smiles

__all__ = ["MoleculeScorer", "ScaffoldMemory", "Score", "ScoringError", "score_smiles"]
