"""A token vocabulary: its size, its special ids and how a sequence reads as text (docs/spec.md §10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Vocabulary:
    """The ``size`` tokens a prior reads and writes, by id.

    :param tokens: the text of each id, in id order (``tokens[i]`` is how id ``i`` reads).
    :param separator: what joins tokens in :meth:`decode` (``" "`` for note names, ``""`` for SMILES).
    :param begin: id fed before a sequence starts, if the task has one.
    :param end: id that ends an episode, if the task has one.
    :param pad: id that fills positions after the end, if the task stores padded sequences.
    """

    tokens: tuple[str, ...]
    separator: str = " "
    begin: int | None = None
    end: int | None = None
    pad: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if not self.tokens:
            raise ValueError("a vocabulary needs at least one token")
        for name in ("begin", "end", "pad"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 0 <= value < len(self.tokens)):
                raise ValueError(f"Vocabulary.{name} must be None or an id in 0..{len(self.tokens) - 1}, got {value!r}")

    @property
    def size(self) -> int:
        """Number of token ids."""
        return len(self.tokens)

    @property
    def specials(self) -> tuple[int, ...]:
        """The special ids (begin, end, pad) the vocabulary has."""
        return tuple(i for i in (self.begin, self.end, self.pad) if i is not None)

    def validate(self, ids: object, *, name: str = "tokens") -> np.ndarray:
        """``ids`` as an int64 array of valid ids, or a ``ValueError`` naming what is wrong."""
        arr = np.asarray(ids)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must be integer token ids 0..{self.size - 1}, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= self.size):
            raise ValueError(f"{name} must be token ids 0..{self.size - 1}, got values {arr.min()}..{arr.max()}")
        return arr

    def decode(self, ids: Sequence[int] | np.ndarray, *, skip_specials: bool = True) -> str:
        """The text of one sequence; special ids are left out unless ``skip_specials`` is False.

        Reading stops at the first end token.
        """
        out = []
        for i in self.validate(ids).reshape(-1).tolist():
            if i == self.end and skip_specials:
                break
            if skip_specials and i in self.specials:
                continue
            out.append(self.tokens[i])
        return self.separator.join(out)


__all__ = ["Vocabulary"]
