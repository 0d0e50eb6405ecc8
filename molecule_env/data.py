"""SMILES corpora: the MOSES splits shipped in the ``molsets`` wheel, or a user's file, checked with rdkit.

The MOSES benchmark (Polykovskiy et al., "Molecular Sets (MOSES)", Front. Pharmacol. 2020) ships three
splits as ``moses/dataset/data/{train,test,test_scaffolds}.csv.gz`` (one ``SMILES`` column; 1,584,663,
176,074 and 176,226 molecules). A user's corpus is a text file, optionally gzipped, of one SMILES per
line, or a CSV whose header has a ``SMILES`` column. Every SMILES is parsed with rdkit; one that does not
parse, or holds a token the vocabulary lacks, is skipped and counted, never fatal.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from molecule_env.extras import package_file, require
from molecule_env.tokens import SmilesEncoder, TokenizeError

MOSES_SPLITS = ("train", "test", "test_scaffolds")


@dataclass(frozen=True)
class SmilesCorpus:
    """SMILES strings that parse, and what was skipped.

    :param smiles: the kept SMILES, in file order (or the subsample's order).
    :param source: where they came from (``"moses:train"`` or a path).
    :param read: SMILES read (after subsampling).
    :param invalid: skipped because rdkit does not parse them.
    :param unknown_tokens: skipped because they hold a token outside the vocabulary (or stray characters).
    """

    smiles: tuple[str, ...]
    source: str
    read: int
    invalid: int = 0
    unknown_tokens: int = 0

    @property
    def skipped(self) -> int:
        """SMILES left out, for any reason."""
        return self.invalid + self.unknown_tokens

    def summary(self) -> str:
        """One line: kept, skipped and why."""
        return (
            f"{self.source}: {len(self.smiles):,} SMILES kept of {self.read:,} read "
            f"({self.invalid:,} invalid, {self.unknown_tokens:,} with unknown tokens skipped)"
        )


def _read_text(path: str | os.PathLike) -> str:
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def read_smiles_lines(text: str) -> list[str]:
    """SMILES from file text: a CSV's ``SMILES`` column if the first line names one, else the first field of
    each non-empty line (whitespace or comma separated)."""
    lines = text.splitlines()
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split(",")]
    if "smiles" in header:
        column = header.index("smiles")
        return [row[column].strip() for row in csv.reader(io.StringIO("\n".join(lines[1:]))) if len(row) > column]
    return [line.replace(",", " ").split()[0] for line in lines if line.strip()]


def moses_path(split: str) -> str:
    """The path of a MOSES split inside the installed ``molsets`` wheel."""
    if split not in MOSES_SPLITS:
        raise ValueError(f"MOSES split must be one of {MOSES_SPLITS}, got {split!r}")
    return package_file("molsets", f"moses/dataset/data/{split}.csv.gz")


def parses(smiles: str) -> bool:
    """Whether rdkit parses (and sanitises) ``smiles``; the empty string does not count as a molecule."""
    if not smiles:
        return False
    Chem = require("rdkit.Chem")
    return Chem.MolFromSmiles(smiles) is not None


def check_smiles(
    smiles: Sequence[str], source: str, encoder: SmilesEncoder | None = None, check: bool = True
) -> SmilesCorpus:
    """Keep the SMILES that rdkit parses (``check``) and that ``encoder``'s vocabulary can spell; count the rest."""
    from rdkit import RDLogger

    kept, invalid, unknown = [], 0, 0
    RDLogger.DisableLog("rdApp.*")  # one line per bad SMILES otherwise; they are counted instead
    try:
        for s in smiles:
            if check and not parses(s):
                invalid += 1
                continue
            if encoder is not None:
                try:
                    encoder.encode(s)
                except TokenizeError:
                    unknown += 1
                    continue
            kept.append(s)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return SmilesCorpus(tuple(kept), source, len(smiles), invalid, unknown)


def load_smiles(
    source: str | os.PathLike = "moses:train",
    *,
    limit: int | None = None,
    seed: int = 0,
    encoder: SmilesEncoder | None = None,
    check: bool = True,
) -> SmilesCorpus:
    """A corpus: ``"moses:<split>"`` (``train``, ``test``, ``test_scaffolds``) or a file path.

    :param limit: keep a random subsample of this many SMILES (drawn with ``seed``) before checking.
    :param encoder: also skip SMILES with tokens outside its vocabulary.
    :param check: parse every SMILES with rdkit (skip and count the ones that fail).
    :raises FileNotFoundError: a path that is not a file. :raises MissingExtraError: molsets or rdkit missing.
    """
    source = str(source)
    if source.startswith("moses:"):
        path = moses_path(source.removeprefix("moses:"))
    else:
        path = source
        if not Path(path).is_file():
            raise FileNotFoundError(f"no SMILES file at {path!r}; pass a file of SMILES or moses:train")
    smiles = read_smiles_lines(_read_text(path))
    if limit is not None and limit < len(smiles):
        pick = np.sort(np.random.default_rng(seed).choice(len(smiles), size=limit, replace=False))
        smiles = [smiles[i] for i in pick]
    return check_smiles(smiles, source, encoder, check)


__all__ = ["MOSES_SPLITS", "SmilesCorpus", "check_smiles", "load_smiles", "moses_path", "parses", "read_smiles_lines"]
