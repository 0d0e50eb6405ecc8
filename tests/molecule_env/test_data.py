from __future__ import annotations

import gzip

import pytest

from molecule_env.data import load_smiles, read_smiles_lines
from molecule_env.extras import MissingExtraError, package_file, require
from molecule_env.tokens import MOSES_TOKENS, SmilesEncoder, smiles_vocabulary


def test_invalid_smiles_in_a_user_corpus_are_skipped_and_counted(tmp_path):
    path = tmp_path / "corpus.smi"
    path.write_text("CCO\nC1CC\nc1ccccc1\nnot_a_molecule\nC[O-]\n\n")
    corpus = load_smiles(path, encoder=SmilesEncoder(smiles_vocabulary(MOSES_TOKENS)))
    assert corpus.smiles == ("CCO", "c1ccccc1")
    assert (corpus.read, corpus.invalid, corpus.unknown_tokens, corpus.skipped) == (5, 2, 1, 3)
    assert "2 invalid" in corpus.summary()


def test_a_gzipped_csv_with_a_smiles_column(tmp_path):
    path = tmp_path / "corpus.csv.gz"
    path.write_bytes(gzip.compress(b"id,SMILES\n1,CCN\n2,C1CC\n"))
    corpus = load_smiles(path)
    assert corpus.smiles == ("CCN",) and corpus.invalid == 1


def test_read_smiles_lines_takes_the_first_field():
    assert read_smiles_lines("CCO name\nCCN,other\n") == ["CCO", "CCN"]


def test_moses_test_split_ships_in_the_wheel_and_parses():
    corpus = load_smiles("moses:test", limit=200, seed=1)
    assert corpus.read == 200 and len(corpus.smiles) == 200 and corpus.invalid == 0


def test_a_missing_file_and_a_missing_extra_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="moses:train"):
        load_smiles(tmp_path / "nope.smi")
    with pytest.raises(MissingExtraError, match=r"pip install .*rl-tuner\[molecules\]"):
        require("rdkit_not_installed_anywhere")
    with pytest.raises(MissingExtraError, match="pip install"):
        package_file("no-such-distribution-here", "x.csv")
