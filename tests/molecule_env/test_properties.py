from __future__ import annotations

import math

import pytest

from molecule_env.scoring.properties import (
    largest_ring,
    parse,
    penalized_logp,
    penalized_logp_of,
    qed,
    ring_penalty,
    sa_score,
    sascorer,
    scaffold,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_qed_of_aspirin_is_the_published_value():
    # Bickerton et al. 2012 (Nat. Chem., Table 1): QED of aspirin 0.55.
    assert qed(parse(ASPIRIN)) == pytest.approx(0.55, abs=0.005)


def test_ring_penalty_counts_atoms_beyond_six():
    assert ring_penalty(parse("C1CCCCC1")) == 0.0
    assert ring_penalty(parse("C1CCCCCC1")) == -1.0  # a 7-ring
    assert ring_penalty(parse("C1CCCCCCC1")) == -2.0
    assert ring_penalty(parse("CCO")) == 0.0 and largest_ring(parse("CCO")) == 0


def test_sa_comes_from_rdkit_contrib_and_ranks_easy_below_hard():
    assert hasattr(sascorer(), "calculateScore")
    easy, hard = sa_score(parse("CCO")), sa_score(parse("C[C@H]1C[C@@]23CC[C@@H]4C(C)(C)CCC[C@]4(C)[C@@H]2CC[C@@H]13"))
    assert 1.0 <= easy < hard <= 10.0


def test_penalized_logp_is_logp_minus_sa_plus_ring_penalty():
    assert penalized_logp_of(2.0, 3.0, -1.0) == -2.0
    from rdkit.Chem import Crippen

    mol = parse("C1CCCCCC1O")
    expected = Crippen.MolLogP(mol) - sa_score(mol) - 1.0
    assert penalized_logp(mol) == pytest.approx(expected)


def test_parse_refuses_partial_and_empty_smiles():
    assert parse("C1CC") is None and parse("") is None and parse("c1cc") is None


def test_scaffold_of_toluene_is_benzene_and_acyclic_is_empty():
    assert scaffold(parse("Cc1ccccc1")) == "c1ccccc1"
    assert scaffold(parse("CCCC")) == ""
    assert not math.isnan(qed(parse("CCCC")))
