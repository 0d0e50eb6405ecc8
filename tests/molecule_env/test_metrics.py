from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from molecule_env.metrics import (
    cosine_similarity,
    count_scaffolds,
    fcd,
    fcd_statistics,
    filter_patterns,
    fraction_unique,
    fraction_valid,
    fragments,
    internal_diversity,
    moses_metrics,
    murcko_scaffold,
    novelty,
    passes_filters,
    reference_statistics,
    snn,
    tanimoto,
)
from molecule_env.scoring.properties import parse


def test_tanimoto_by_hand():
    a = np.array([[1, 1, 0, 0], [0, 0, 0, 0]])
    b = np.array([[1, 0, 1, 0], [0, 0, 0, 0]])
    got = tanimoto(a, b)
    assert got[0, 0] == pytest.approx(1 / 3) and got[0, 1] == 0.0 and got[1, 1] == 1.0  # empty vs empty: 1


def test_internal_diversity_and_snn_by_hand():
    fps = np.array([[1, 0], [0, 1]])
    assert internal_diversity(fps, 1) == pytest.approx(0.5)  # rows average T over (self 1, other 0)
    assert internal_diversity(fps, 2) == pytest.approx(1 - math.sqrt(0.5))
    assert snn(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 1, 0], [1, 1, 0, 0]])) == 1.0


def test_validity_uniqueness_novelty_by_hand():
    assert fraction_valid(["CCO", "C1CC", "c1ccccc1", ""]) == 0.5
    assert fraction_unique(["CC", "CC", "CO"], 2) == 0.5
    assert fraction_unique(["CC", "CC", "CO"]) == pytest.approx(2 / 3)
    assert novelty(["CC", "CO", "CO"], {"CC"}) == 0.5


def test_cosine_similarity_of_counts():
    assert cosine_similarity(Counter(a=1, b=1), Counter(a=1)) == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(cosine_similarity(Counter(), Counter(a=1)))


def test_moses_filters():
    assert len(filter_patterns()) > 400  # MCF + PAINS from the molsets wheel
    results = [passes_filters(parse(s)) for s in ("CCO", "C[N+](C)(C)C", "C1CCCCCCC1", "CCP")]
    assert results == [True, False, False, False]  # charge, 8-ring, phosphorus


def test_scaffolds_need_two_rings_and_brics_fragments():
    assert murcko_scaffold(parse("Oc1ccccc1Cc1ccccc1")) == "c1ccc(Cc2ccccc2)cc1"
    assert murcko_scaffold(parse("Cc1ccccc1")) is None
    assert count_scaffolds([parse("c1ccccc1Cc1ccccc1"), parse("CCO")]) == Counter({"c1ccc(Cc2ccccc2)cc1": 1})
    assert sorted(fragments(parse("CCOC(=O)c1ccccc1"))) == ["[1*]C([6*])=O", "[16*]c1ccccc1", "[3*]O[3*]", "[4*]CC"]


def test_fcd_of_a_set_to_itself_is_zero():
    smiles = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "O=C(O)c1ccccc1", "CCCCCC", "c1ccncc1"]
    assert abs(fcd(smiles, fcd_statistics(smiles))) < 1e-3


def test_moses_metrics_end_to_end():
    generated = ["CCO", "C1CC", "c1ccccc1", "CCO", "c1ccccc1Cc1ccccc1"]
    reference = reference_statistics(["CCO", "c1ccccc1Cc1ccccc1", "CCN"], with_fcd=False)
    got = moses_metrics(generated, reference, train={"CCO"}, ks=(2, 4))
    assert got["valid"] == 0.8
    assert got["unique@2"] == 1.0 and got["unique@4"] == 0.75
    assert got["Novelty"] == pytest.approx(2 / 3)
    assert got["Scaf/Test"] == pytest.approx(1.0)
    assert 0.0 < got["IntDiv"] < 1.0 and 0.0 < got["SNN/Test"] <= 1.0 and "FCD/Test" not in got
