"""Molecular properties computed with rdkit, one small function each (scores of one ``rdkit.Chem.Mol``).

- QED: Bickerton et al., "Quantifying the chemical beauty of drugs", Nat. Chem. 2012 (``rdkit.Chem.QED``).
- SA: the synthetic accessibility score of Ertl & Schuffenhauer, J. Cheminf. 2009, 1 (easy) to 10 (hard),
  from the scorer rdkit ships in its Contrib folder (``RDConfig.RDContribDir/SA_Score/sascorer.py``).
- penalised logP: ``logP − SA − max(0, largest ring − 6)`` (Crippen logP; the unnormalised form of You et
  al., "Graph Convolutional Policy Network", NeurIPS 2018), rings from rdkit's ring perception.
- ring penalty: ``−max(0, largest ring − 6)``: 0 up to six-membered rings, −1 per atom beyond.
- scaffold: the Bemis–Murcko scaffold's canonical SMILES (``""`` for an acyclic molecule).
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from types import ModuleType
from typing import Any

from molecule_env.extras import MissingExtraError, require


@lru_cache(maxsize=1)
def sascorer() -> ModuleType:
    """rdkit's Contrib SA scorer, loaded from ``RDConfig.RDContribDir`` (it is not an importable package).

    :raises MissingExtraError: rdkit is missing, or its wheel lacks ``Contrib/SA_Score``.
    """
    RDConfig = require("rdkit.RDConfig")
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    if not os.path.isfile(path):
        raise MissingExtraError(f"this rdkit has no SA scorer at {path}; install the rdkit wheel from PyPI")
    spec = importlib.util.spec_from_file_location("rdkit_contrib_sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def qed(mol: Any) -> float:
    """QED in [0, 1] (higher: more drug-like)."""
    from rdkit.Chem import QED

    return float(QED.qed(mol))


def sa_score(mol: Any) -> float:
    """Synthetic accessibility, 1 (easy) to 10 (hard)."""
    return float(sascorer().calculateScore(mol))


def logp(mol: Any) -> float:
    """Crippen logP (Wildman & Crippen 1999)."""
    from rdkit.Chem import Crippen

    return float(Crippen.MolLogP(mol))


def largest_ring(mol: Any) -> int:
    """Atoms in the largest ring of rdkit's ring perception (0 without rings)."""
    return max((len(ring) for ring in mol.GetRingInfo().AtomRings()), default=0)


def ring_penalty(mol: Any) -> float:
    """``−max(0, largest ring − 6)``."""
    return -float(max(0, largest_ring(mol) - 6))


def penalized_logp_of(logp_value: float, sa_value: float, ring_penalty_value: float) -> float:
    """``logP − SA + ring penalty`` from the three parts (the ring penalty is ``−max(0, largest ring − 6)``)."""
    return logp_value - sa_value + ring_penalty_value


def penalized_logp(mol: Any) -> float:
    """``logP − SA − max(0, largest ring − 6)``."""
    return penalized_logp_of(logp(mol), sa_score(mol), ring_penalty(mol))


def scaffold(mol: Any) -> str:
    """The Bemis–Murcko scaffold as canonical SMILES; ``""`` for a molecule without rings."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))


@lru_cache(maxsize=1)
def _chem() -> ModuleType:
    """``rdkit.Chem``, with rdkit's per-molecule parse errors silenced (invalid SMILES are counted instead)."""
    Chem = require("rdkit.Chem")
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem


def parse(smiles: str) -> Any:
    """The rdkit molecule of ``smiles`` (sanitised), or ``None`` when it does not parse; ``""`` is no molecule."""
    if not smiles:
        return None
    return _chem().MolFromSmiles(smiles)


PROPERTIES = {"qed": qed, "sa": sa_score, "logp": logp, "ring_penalty": ring_penalty}
# Values computed from other properties' values (so SA and logP are not computed twice).
DERIVED = {"penalized_logp": (("logp", "sa", "ring_penalty"), penalized_logp_of)}

__all__ = [
    "DERIVED",
    "PROPERTIES",
    "largest_ring",
    "logp",
    "parse",
    "penalized_logp",
    "penalized_logp_of",
    "qed",
    "ring_penalty",
    "sa_score",
    "sascorer",
    "scaffold",
]
