"""Command-line flags from a typed ``@dataclass Args`` whose fields carry one docstring line each.

The pattern of CleanRL's scripts: the dataclass is the single place where a script's settings, their
defaults and their help live; this module turns it into an ``argparse`` parser.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
_KINDS = {"int": int, "float": float, "str": str, "bool": bool}


def field_help(cls: type) -> dict[str, str]:
    """The docstring line under each field of dataclass ``cls``."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    helps = {}
    for node, nxt in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            helps[node.target.id] = str(nxt.value.value)
    return helps


def parse_dataclass(cls: type[T], argv: Sequence[str] | None, prog: str, description: str = "") -> T:
    """Build ``cls`` from ``argv``: ``--flag value`` per field, booleans as ``--flag`` / ``--no-flag``.

    :param cls: a dataclass whose fields are int, float, str or bool with defaults.
    :param argv: the arguments (``None``: ``sys.argv[1:]``).
    :param prog: program name shown in ``--help``.
    :param description: one line shown in ``--help``.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    helps = field_help(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        kind = _KINDS[f.type if isinstance(f.type, str) else f.type.__name__]
        text = helps.get(f.name, "")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=text)
        else:
            parser.add_argument(flag, type=kind, default=f.default, help=f"{text} (default: {f.default})")
    return cls(**vars(parser.parse_args(argv)))


__all__ = ["field_help", "parse_dataclass"]
