from __future__ import annotations

import math

import numpy as np
import pytest

from molecule_env.scoring.memory import ScaffoldMemory
from molecule_env.scoring.properties import PROPERTIES, parse, qed
from molecule_env.scoring.scorer import MoleculeScorer, score_smiles


def test_each_unique_smiles_is_scored_once_and_then_served_from_the_cache():
    scorer = MoleculeScorer(workers=0)
    first = scorer.score(["CCO", "CCO", "c1ccccc1"])
    assert (scorer.misses, scorer.hits) == (2, 1)
    again = scorer.score(["c1ccccc1", "CCO"])
    assert (scorer.misses, scorer.hits) == (2, 3)
    assert again[0] is first[2] and again[1] is first[0]
    assert first[0].values["qed"] == pytest.approx(qed(parse("CCO")))


def test_invalid_smiles_score_nan_without_a_scaffold():
    score = score_smiles("C1CC")
    assert not score.valid and score.scaffold is None
    assert all(math.isnan(v) for v in score.values.values())
    assert set(score.values) == {*PROPERTIES, "penalized_logp"}


def _explodes(mol):
    if mol.GetNumAtoms() > 2:
        raise RuntimeError("boom")
    return 1.0


def test_a_raising_property_is_reported_with_its_molecule_and_scoring_goes_on():
    scorer = MoleculeScorer({"explodes": _explodes}, workers=0)
    with pytest.warns(RuntimeWarning, match=r"'explodes' raised RuntimeError: boom on the molecule 'CCCC'"):
        scores = scorer.score(["CC", "CCCC", "CCCCC"])
    assert scores[0].values["explodes"] == 1.0 and math.isnan(scores[1].values["explodes"])
    assert [(e.name, e.smiles) for e in scorer.errors] == [("explodes", "CCCC"), ("explodes", "CCCCC")]


def test_worker_processes_give_the_in_process_scores():
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CC", "CCN(CC)CC"]
    pooled = MoleculeScorer(workers=1, pool_min=1)
    try:
        got = pooled.score(smiles)
    finally:
        pooled.close()
    want = MoleculeScorer(workers=0).score(smiles)
    for a, b in zip(got, want, strict=True):
        assert a.valid == b.valid and a.scaffold == b.scaffold
        np.testing.assert_allclose(list(a.values.values()), list(b.values.values()))


def test_scaffold_memory_zeroes_repeats_once_the_bucket_is_full():
    memory = ScaffoldMemory(bucket_size=2)
    assert memory.admit(["c1ccccc1", "c1ccccc1", "c1ccccc1", None, ""]).tolist() == [1, 1, 0, 0, 1]
    assert memory.admit(["c1ccccc1", ""]).tolist() == [0, 1]
    assert len(memory) == 2
    with pytest.raises(ValueError, match="bucket_size"):
        ScaffoldMemory(0)
