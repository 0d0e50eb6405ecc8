"""The SMILES prior: an :class:`~sequence_env.lstm.LSTMPrior` checkpoint whose metadata names its tokens.

The shipped prior lives in ``molecule_env/checkpoints/`` (its ``MODEL_CARD.md`` says how it was trained
and how it samples); any checkpoint written by :mod:`molecule_env.training` loads the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from molecule_env.tokens import SmilesEncoder, smiles_vocabulary
from sequence_env.checkpoint import CheckpointError, load_checkpoint
from sequence_env.lstm import LSTMPrior
from sequence_env.vocabulary import Vocabulary

DEFAULT_PRIOR = Path(__file__).resolve().parent / "checkpoints" / "smiles_prior"


@dataclass(frozen=True)
class SmilesPrior:
    """A loaded prior with its vocabulary. :param model: the LSTM (eval). :param vocabulary: its tokens."""

    model: LSTMPrior
    vocabulary: Vocabulary
    metadata: dict

    @property
    def encoder(self) -> SmilesEncoder:
        """SMILES to ids and back for this prior's vocabulary."""
        return SmilesEncoder(self.vocabulary)


def load_smiles_prior(path: str | os.PathLike | None = None) -> SmilesPrior:
    """The prior at ``path`` (``None``: the shipped one) with the vocabulary its metadata records.

    :raises CheckpointError: a missing or damaged checkpoint, or one without the ``tokens`` metadata.
    """
    path = DEFAULT_PRIOR if path is None else Path(path)
    model = LSTMPrior.load(path)
    metadata = load_checkpoint(path, LSTMPrior.KIND, LSTMPrior.FORMAT_VERSION).metadata
    tokens = metadata.get("tokens")
    if not isinstance(tokens, list) or tokens[:3] != list(smiles_vocabulary(()).tokens):
        raise CheckpointError(f"{path} has no SMILES vocabulary in its metadata; train it with molecule_env.training")
    vocabulary = smiles_vocabulary(tuple(tokens[3:]))
    if vocabulary.size != model.vocab_size:
        raise CheckpointError(f"{path}: {vocabulary.size} tokens in the metadata, {model.vocab_size} in the model")
    return SmilesPrior(model, vocabulary, metadata)


__all__ = ["DEFAULT_PRIOR", "SmilesPrior", "load_smiles_prior"]
