from __future__ import annotations

import numpy as np
import pytest

from molecule_env.tokens import MOSES_TOKENS, SmilesEncoder, TokenizeError, corpus_tokens, smiles_vocabulary, tokenize


@pytest.mark.parametrize(
    ("smiles", "tokens"),
    [
        ("CCl", ["C", "Cl"]),
        ("Brc1ccccc1", ["Br", "c", "1", "c", "c", "c", "c", "c", "1"]),
        ("c1cc[nH]c1", ["c", "1", "c", "c", "[nH]", "c", "1"]),
        ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),
        ("[C@@H](O)N", ["[C@@H]", "(", "O", ")", "N"]),
    ],
)
def test_multi_character_tokens_are_one_token_and_join_back(smiles, tokens):
    assert tokenize(smiles) == tokens
    assert "".join(tokenize(smiles)) == smiles


def test_stray_characters_are_refused():
    with pytest.raises(TokenizeError, match="stray"):
        tokenize("CC C")


def test_encode_adds_begin_and_end_and_decode_round_trips():
    vocabulary = smiles_vocabulary(MOSES_TOKENS)
    encoder = SmilesEncoder(vocabulary)
    ids = encoder.encode("Clc1cc[nH]c1Br")
    assert ids[0] == vocabulary.begin and ids[-1] == vocabulary.end
    assert len(ids) == 2 + 9
    assert encoder.decode(ids) == "Clc1cc[nH]c1Br"
    assert encoder.decode(np.concatenate([ids, [vocabulary.tokens.index("C")]])) == "Clc1cc[nH]c1Br"  # stops at end


def test_a_token_outside_the_vocabulary_is_named():
    encoder = SmilesEncoder(smiles_vocabulary(MOSES_TOKENS))
    with pytest.raises(TokenizeError, match=r"'\[O-\]'"):
        encoder.encode("C[O-]")


def test_corpus_tokens_most_frequent_first_and_vocabulary_specials():
    assert corpus_tokens(["CCO", "CO"]) == ("C", "O")
    vocabulary = smiles_vocabulary(("C", "O"))
    assert vocabulary.tokens == ("<pad>", "<s>", "</s>", "C", "O")
    assert (vocabulary.pad, vocabulary.begin, vocabulary.end) == (0, 1, 2)
    with pytest.raises(ValueError, match="repeated"):
        smiles_vocabulary(("C", "C"))
