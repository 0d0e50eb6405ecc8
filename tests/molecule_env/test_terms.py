from __future__ import annotations

import numpy as np
import pytest

from molecule_env.scoring.properties import parse, qed
from molecule_env.scoring.terms import DEFAULT_WEIGHTS, MoleculeContext, molecule_terms
from molecule_env.tokens import MOSES_TOKENS, SmilesEncoder, smiles_vocabulary
from sequence_env.evaluator import TermEvaluator

ENCODER = SmilesEncoder(smiles_vocabulary(MOSES_TOKENS))


def _rows(*smiles: str, end: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Episodes as the evaluator holds them: tokens after the begin token, the end token last."""
    encoded = [ENCODER.encode(s)[1:] if end else ENCODER.encode(s)[1:-1] for s in smiles]
    out = np.zeros((len(encoded), 30), dtype=np.int64)
    for i, e in enumerate(encoded):
        out[i, : len(e)] = e
    return out, np.array([len(e) - 1 for e in encoded])


def _terms(weights=None):
    return {term.name: term for term in molecule_terms(weights)}


def test_terms_of_hand_checked_molecules():
    context = MoleculeContext(ENCODER)
    sequences, positions = _rows("CC(=O)Oc1ccccc1C(=O)O", "C1CC", "C1CCCCCC1")
    terms = _terms()
    assert terms["validity"].fn(sequences, positions, context).tolist() == [1.0, 0.0, 1.0]
    got = terms["qed"].fn(sequences, positions, context)
    assert got[0] == pytest.approx(qed(parse("CC(=O)Oc1ccccc1C(=O)O"))) and got[1] == 0.0
    assert terms["ring_penalty"].fn(sequences, positions, context).tolist() == [0.0, 0.0, -1.0]
    sa = terms["sa"].fn(sequences, positions, context)
    assert 0.0 < sa[0] <= 1.0 and sa[1] == 0.0
    assert (context.scorer.misses, context.scorer.hits) == (3, 9)  # scored by the first term, cached after
    assert all(term.at == "end" for term in terms.values())


def test_no_end_token_or_a_special_inside_is_no_molecule():
    context = MoleculeContext(ENCODER)
    sequences, positions = _rows("CCO", end=False)
    assert context.smiles(sequences, positions) == [None]
    sequences, positions = _rows("CCO")
    sequences[0, 1] = ENCODER.vocabulary.pad
    assert context.smiles(sequences, positions) == [None]


def test_diversity_term_pays_the_first_bucket_size_molecules_of_a_scaffold():
    from molecule_env.scoring.memory import ScaffoldMemory

    context = MoleculeContext(ENCODER, memory=ScaffoldMemory(bucket_size=2))
    sequences, positions = _rows("Cc1ccccc1", "Oc1ccccc1", "Nc1ccccc1", "C1CC")
    assert _terms()["diversity"].fn(sequences, positions, context).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_terms_fire_only_on_the_step_that_ends_the_episode():
    context = MoleculeContext(ENCODER)
    terms = molecule_terms({"diversity": 0.0})
    evaluator = TermEvaluator(1, 10, context, terms, ENCODER.vocabulary.size)
    ids = ENCODER.encode("CCO")[1:]  # C C O </s>
    rows = [evaluator.step(np.array([token]), np.array([token == ENCODER.vocabulary.end])) for token in ids]
    assert all(not row.any() for row in rows[:-1])
    validity = terms.names.index("validity")
    assert rows[-1][0, validity] == DEFAULT_WEIGHTS["validity"]


def test_unknown_term_weights_are_refused():
    with pytest.raises(ValueError, match="unknown molecule term 'logp'"):
        molecule_terms({"logp": 1.0})
