"""MOSES's metrics of generated SMILES (Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 2020).

Each metric follows the definition of MOSES 0.3.1 (``moses/metrics/metrics.py`` and ``utils.py``), computed
here with rdkit because ``import moses`` fails with current rdkit and pandas; the filters read MOSES's own
SMARTS files from the molsets wheel, and FCD is ``fcd_torch``'s (its ChemNet weights ship in its wheel):

- ``valid``: share of SMILES rdkit parses; the other metrics use the valid ones, canonicalised;
- ``unique@k``: distinct canonical SMILES among the first ``k`` valid ones, over ``k``;
- ``novelty``: share of distinct valid molecules not in the training set;
- ``IntDiv``/``IntDiv2``: ``1 − (mean_{i,j} T(i, j)^p)^(1/p)`` over all pairs (self-pairs included) of
  Morgan fingerprints (radius 2, 1024 bits), T the Tanimoto similarity;
- ``Filters``: share passing MOSES's filters (atoms C N S O F Cl Br H, no charges, no ring of 8+ atoms,
  no MCF or PAINS substructure);
- ``SNN``: mean over generated molecules of the largest Tanimoto similarity to a reference molecule;
- ``Frag``/``Scaf``: cosine similarity of the BRICS-fragment / Bemis–Murcko-scaffold counts (scaffolds
  with at least two rings, MOSES's ``min_rings=2``) of the generated and reference sets;
- ``FCD``: Fréchet ChemNet distance (Preuer et al. 2018) of the two sets' ChemNet activations.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from molecule_env.extras import package_file, require
from molecule_env.scoring.properties import parse

FILTER_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})


def canonical(smiles: str) -> str | None:
    """rdkit's canonical SMILES, or ``None`` when ``smiles`` does not parse."""
    mol = parse(smiles)
    if mol is None:
        return None
    from rdkit import Chem

    return Chem.MolToSmiles(mol)


def fraction_valid(smiles: Sequence[str]) -> float:
    """Share of SMILES that rdkit parses."""
    return sum(parse(s) is not None for s in smiles) / len(smiles) if smiles else 0.0


def fraction_unique(valid_canonical: Sequence[str], k: int | None = None) -> float:
    """``unique@k``: distinct SMILES among the first ``k`` (all if ``None``) over their number."""
    head = list(valid_canonical[:k] if k is not None else valid_canonical)
    return len(set(head)) / len(head) if head else 0.0


def novelty(valid_canonical: Sequence[str], train: set[str]) -> float:
    """Share of the distinct SMILES that are not in ``train``."""
    distinct = set(valid_canonical)
    return len(distinct - train) / len(distinct) if distinct else 0.0


def morgan_fingerprints(mols: Sequence[Any], radius: int = 2, bits: int = 1024) -> np.ndarray:
    """``(n, bits)`` uint8 Morgan fingerprints (MOSES: radius 2, 1024 bits)."""
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    out = np.zeros((len(mols), bits), dtype=np.uint8)
    for i, mol in enumerate(mols):
        out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def tanimoto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m)`` Tanimoto similarities of bit vectors ``a (n, d)`` and ``b (m, d)``; 1 where both are empty."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    both = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - both
    with np.errstate(invalid="ignore", divide="ignore"):
        out = both / union
    out[union == 0] = 1.0
    return out


def aggregate_tanimoto(
    reference: np.ndarray, generated: np.ndarray, agg: str = "max", p: int = 1, block: int = 2000
) -> np.ndarray:
    """Per generated vector: ``max`` or ``(mean T^p)^(1/p)`` of its similarity to the reference vectors."""
    out = np.empty(len(generated))
    for i in range(0, len(generated), block):
        sims = tanimoto(generated[i : i + block], reference)
        out[i : i + block] = sims.max(1) if agg == "max" else (sims**p).mean(1) ** (1.0 / p)
    return out


def internal_diversity(fingerprints: np.ndarray, p: int = 1) -> float:
    """``IntDiv_p``: ``1 − mean_i (mean_j T(i, j)^p)^(1/p)`` over all pairs, self-pairs included (MOSES)."""
    return float(1.0 - aggregate_tanimoto(fingerprints, fingerprints, "mean", p).mean())


def snn(generated: np.ndarray, reference: np.ndarray) -> float:
    """Mean nearest-neighbour Tanimoto similarity of generated fingerprints to reference fingerprints."""
    return float(aggregate_tanimoto(reference, generated, "max").mean())


def fragments(mol: Any) -> list[str]:
    """BRICS fragments of one molecule as SMILES (MOSES's ``fragmenter``)."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    return Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split(".")


def murcko_scaffold(mol: Any, min_rings: int = 2) -> str | None:
    """The Bemis–Murcko scaffold's SMILES if it has at least ``min_rings`` rings, else ``None`` (MOSES)."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    smiles = Chem.MolToSmiles(scaffold)
    if not smiles or scaffold.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def count_fragments(mols: Iterable[Any]) -> Counter[str]:
    """BRICS fragment counts over molecules."""
    counts: Counter[str] = Counter()
    for mol in mols:
        counts.update(fragments(mol))
    return counts


def count_scaffolds(mols: Iterable[Any]) -> Counter[str]:
    """Scaffold counts (scaffolds of two or more rings) over molecules."""
    counts = Counter(murcko_scaffold(mol) for mol in mols)
    counts.pop(None, None)
    return counts


def cosine_similarity(reference: Counter[str], generated: Counter[str]) -> float:
    """Cosine similarity of two count vectors over the union of their keys; NaN if either is empty (MOSES)."""
    keys = sorted(set(reference) | set(generated))
    a = np.array([reference.get(k, 0) for k in keys], dtype=np.float64)
    b = np.array([generated.get(k, 0) for k in keys], dtype=np.float64)
    if not a.any() or not b.any():
        return float("nan")
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@lru_cache(maxsize=1)
def filter_patterns() -> tuple[Any, ...]:
    """MOSES's MCF and PAINS SMARTS (``moses/metrics/mcf.csv``, ``wehi_pains.csv`` of the molsets wheel)."""
    from rdkit import Chem

    patterns = []
    with open(package_file("molsets", "moses/metrics/mcf.csv"), newline="") as f:
        rows = list(csv.reader(f))
    smarts_column = rows[0].index("smarts")
    patterns += [row[smarts_column] for row in rows[1:]]
    with open(package_file("molsets", "moses/metrics/wehi_pains.csv"), newline="") as f:
        patterns += [row[0] for row in csv.reader(f)]
    return tuple(Chem.MolFromSmarts(s) for s in patterns)


def passes_filters(mol: Any) -> bool:
    """MOSES's ``mol_passes_filters``: allowed atoms, no charge, no ring of 8+ atoms, no MCF/PAINS match."""
    from rdkit import Chem

    if any(len(ring) >= 8 for ring in mol.GetRingInfo().AtomRings()):
        return False
    if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
        return False
    if any(atom.GetSymbol() not in FILTER_ATOMS for atom in mol.GetAtoms()):
        return False
    with_h = Chem.AddHs(mol)
    if any(with_h.HasSubstructMatch(pattern) for pattern in filter_patterns()):
        return False
    smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def fcd_statistics(smiles: Sequence[str]) -> dict[str, np.ndarray]:
    """Mean and covariance of ChemNet activations (``fcd_torch.FCD.precalc``)."""
    return _fcd().precalc(list(smiles))


def fcd(generated: Sequence[str], reference: dict[str, np.ndarray]) -> float:
    """Fréchet ChemNet distance of generated SMILES to reference statistics (:func:`fcd_statistics`)."""
    return float(_fcd()(gen=list(generated), pref=reference))


@lru_cache(maxsize=1)
def _fcd() -> Any:
    fcd_torch = require("fcd_torch")
    return fcd_torch.FCD(device="cpu", n_jobs=1, batch_size=512)


@dataclass(frozen=True)
class Reference:
    """A reference set's precomputed statistics (MOSES's ``ptest``)."""

    fingerprints: np.ndarray
    fragments: Counter[str]
    scaffolds: Counter[str]
    fcd: dict[str, np.ndarray] | None


def reference_statistics(smiles: Sequence[str], with_fcd: bool = True) -> Reference:
    """The statistics SNN, Frag, Scaf and FCD compare against, from valid reference SMILES."""
    mols = [m for m in (parse(s) for s in smiles) if m is not None]
    return Reference(
        morgan_fingerprints(mols),
        count_fragments(mols),
        count_scaffolds(mols),
        fcd_statistics([canonical(s) for s in smiles if parse(s) is not None]) if with_fcd else None,
    )


def moses_metrics(
    generated: Sequence[str],
    reference: Reference | None = None,
    train: set[str] | None = None,
    ks: Sequence[int] = (1000, 10000),
) -> dict[str, float]:
    """MOSES's metrics of ``generated`` (module docs); the reference-based ones only if ``reference`` is given,
    novelty only if ``train`` is."""
    require("rdkit")
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    out = {"valid": fraction_valid(generated)}
    valid = [c for c in (canonical(s) for s in generated) if c is not None]
    for k in ks:
        out[f"unique@{k // 1000}k" if k % 1000 == 0 else f"unique@{k}"] = fraction_unique(valid, k)
    if not valid:
        return out
    mols = [parse(s) for s in valid]
    fps = morgan_fingerprints(mols)
    out["IntDiv"] = internal_diversity(fps, 1)
    out["IntDiv2"] = internal_diversity(fps, 2)
    out["Filters"] = float(np.mean([passes_filters(m) for m in mols]))
    if train is not None:
        out["Novelty"] = novelty(valid, train)
    if reference is not None:
        out["SNN/Test"] = snn(fps, reference.fingerprints)
        out["Frag/Test"] = cosine_similarity(reference.fragments, count_fragments(mols))
        out["Scaf/Test"] = cosine_similarity(reference.scaffolds, count_scaffolds(mols))
        if reference.fcd is not None and len(valid) >= 2:
            out["FCD/Test"] = fcd(valid, reference.fcd)
    return out


__all__ = [
    "FILTER_ATOMS",
    "Reference",
    "aggregate_tanimoto",
    "canonical",
    "cosine_similarity",
    "count_fragments",
    "count_scaffolds",
    "fcd",
    "fcd_statistics",
    "filter_patterns",
    "fraction_unique",
    "fraction_valid",
    "fragments",
    "internal_diversity",
    "morgan_fingerprints",
    "moses_metrics",
    "murcko_scaffold",
    "novelty",
    "passes_filters",
    "reference_statistics",
    "snn",
    "tanimoto",
]
