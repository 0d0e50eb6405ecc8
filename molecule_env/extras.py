"""The optional dependencies of molecules, and the one-line message naming the install when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = 'pip install "rl-tuner[molecules]" && pip install --no-deps molsets==0.3.1 fcd-torch==1.0.7'


class MissingExtraError(ImportError):
    """A package of the ``molecules`` extra is not installed; the message names the command that installs it."""


def require(module: str) -> ModuleType:
    """Import ``module`` (``rdkit``, ``fcd_torch``, ...) or raise :class:`MissingExtraError` naming the install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(f"molecules need {module.split('.')[0]}, which is not installed: {INSTALL}") from exc


def package_file(distribution: str, path: str) -> str:
    """The path of a data file shipped inside an installed distribution (e.g. molsets' MOSES splits).

    Read through the distribution's metadata (``importlib.metadata``), not by importing its package:
    ``import moses`` fails with current rdkit and pandas (``rdkit.six`` and ``DataFrame.append`` are gone),
    while its data files are intact.

    :raises MissingExtraError: the distribution is not installed, or lacks the file.
    """
    from importlib import metadata

    try:
        located = metadata.distribution(distribution).locate_file(path)
    except metadata.PackageNotFoundError:
        raise MissingExtraError(f"molecules need {distribution}, which is not installed: {INSTALL}") from None
    if not located.is_file():
        raise MissingExtraError(f"{distribution} is installed without {path}; reinstall it: {INSTALL}")
    return str(located)


__all__ = ["INSTALL", "MissingExtraError", "package_file", "require"]
