"""Molecule tests: skipped as a whole where the ``molecules`` extra (rdkit, molsets) is not installed."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("rdkit", reason="the molecules extra is not installed")

from molecule_env.tokens import MOSES_TOKENS, smiles_vocabulary
from sequence_env.lstm import LSTMConfig, LSTMPrior


@pytest.fixture(scope="session")
def tiny_prior_path(tmp_path_factory):
    """A random 16-cell LSTM prior over the MOSES vocabulary, saved as a checkpoint."""
    torch.manual_seed(0)
    vocabulary = smiles_vocabulary(MOSES_TOKENS)
    model = LSTMPrior(LSTMConfig(vocabulary.size, 16, 1))
    path = tmp_path_factory.mktemp("prior") / "tiny"
    model.save(path, metadata={"tokens": list(vocabulary.tokens)})
    return path
