"""SMILES tokens: a tokenizer that keeps multi-character atoms whole, and the vocabulary of the shipped prior.

A SMILES string is split by the regular expression of Schwaller et al. ("Molecular Transformer", ACS
Cent. Sci. 2019): a bracket atom (``[nH]``, ``[C@@H]``, ``[O-]``), ``Cl``, ``Br`` and a two-digit ring
bond (``%10``) are one token each; every other character is a token. The vocabulary adds three special
tokens: the begin token fed before a molecule, the end token that ends an episode, and the padding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from sequence_env.vocabulary import Vocabulary

SMILES_PATTERN = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)
PAD, BEGIN, END = "<pad>", "<s>", "</s>"
SPECIALS = (PAD, BEGIN, END)
# The tokens of the MOSES training split (1,584,663 SMILES), most frequent first.
MOSES_TOKENS = (
    "c", "C", "(", ")", "1", "O", "2", "N", "=", "n", "3", "F", "-", "S", "s", "o", "Cl", "[nH]", "#", "4",
    "Br", "5", "[H]", "6",
)  # fmt: skip


class TokenizeError(ValueError):
    """A SMILES string holds characters no token matches."""


def tokenize(smiles: str) -> list[str]:
    """The tokens of one SMILES string, in order (``"".join(tokenize(s)) == s``).

    :raises TokenizeError: characters that are not SMILES (e.g. a space or an unclosed bracket).
    """
    tokens = SMILES_PATTERN.findall(smiles)
    if "".join(tokens) != smiles:
        raise TokenizeError(f"{smiles!r} is not a SMILES string the tokenizer can split (stray characters)")
    return tokens


def smiles_vocabulary(tokens: Sequence[str] = MOSES_TOKENS) -> Vocabulary:
    """A :class:`~sequence_env.vocabulary.Vocabulary` of the special tokens (ids 0, 1, 2) then ``tokens``."""
    duplicates = sorted({t for t in tokens if list(tokens).count(t) > 1} | (set(tokens) & set(SPECIALS)))
    if duplicates:
        raise ValueError(f"SMILES tokens must be unique and not special, repeated or special: {duplicates}")
    return Vocabulary((*SPECIALS, *tokens), separator="", begin=1, end=2, pad=0)


def corpus_tokens(smiles: Iterable[str]) -> tuple[str, ...]:
    """The distinct tokens of a corpus, most frequent first (ties in order of first appearance)."""
    counts: dict[str, int] = {}
    for s in smiles:
        for token in tokenize(s):
            counts[token] = counts.get(token, 0) + 1
    return tuple(sorted(counts, key=lambda t: -counts[t]))


class SmilesEncoder:
    """SMILES text to token ids and back, for one vocabulary.

    :param vocabulary: from :func:`smiles_vocabulary`.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.ids = {token: i for i, token in enumerate(vocabulary.tokens)}

    def encode(self, smiles: str) -> np.ndarray:
        """``[begin, tokens..., end]`` as int64 ids.

        :raises TokenizeError: the string cannot be split, or holds a token outside the vocabulary.
        """
        tokens = tokenize(smiles)
        try:
            ids = [self.ids[t] for t in tokens]
        except KeyError as exc:
            raise TokenizeError(f"{smiles!r} holds the token {exc.args[0]!r}, which the vocabulary lacks") from None
        if any(i in self.vocabulary.specials for i in ids):
            raise TokenizeError(f"{smiles!r} holds a special token")
        return np.array([self.vocabulary.begin, *ids, self.vocabulary.end], dtype=np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The SMILES text of ids, stopping at the end token and skipping begin and padding."""
        return self.vocabulary.decode(ids)


__all__ = [
    "BEGIN",
    "END",
    "MOSES_TOKENS",
    "PAD",
    "SMILES_PATTERN",
    "SPECIALS",
    "SmilesEncoder",
    "TokenizeError",
    "corpus_tokens",
    "smiles_vocabulary",
    "tokenize",
]
