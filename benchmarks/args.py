"""Command-line flags from a typed ``@dataclass Args`` whose fields carry one docstring line each.

The pattern of CleanRL's scripts: the dataclass is the single place where a script's settings, their
defaults and their help live; this module turns it into an ``argparse`` parser. Help is plain text
(reStructuredText markup such as double backticks is removed) and every flag shows its default,
unless its line already says what the default means. A mistake on the command line is one line on
stderr and exit code 2 (:class:`OneLineParser`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
_KINDS = {"int": int, "float": float, "str": str, "bool": bool}
_LITERAL = re.compile(r"``(.+?)``")
_ROLE = re.compile(r":\w+:`~?(?:[\w.]+\.)?([^`]+)`")


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage block) naming the ``--help`` to read."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>; see <prog> --help`` on stderr and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def plain(text: str) -> str:
    """Help text without reStructuredText markup: ````x```` and ``:role:`x``` become ``x``."""
    return _ROLE.sub(r"\1", _LITERAL.sub(r"\1", text))


def with_default(text: str, default: Any) -> str:
    """``text (default: <default>)`` for argparse, unless ``text`` already names its default.

    Booleans read ``on``/``off``; an empty string adds nothing (its line should say what empty means).
    The result is an argparse help string: ``%`` in ``text`` is escaped.

    :param text: the help line.
    :param default: the flag's default value.
    """
    text = plain(text).replace("%", "%%")
    if "(default" in text or default is None or default == "":
        return text
    shown = ("on" if default else "off") if isinstance(default, bool) else default
    return f"{text} (default: {shown})"


def _number(kind: type, text: str, ok, what: str):
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    return _number(int, text, lambda v: v >= 1, "a positive integer")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(float, text, lambda v: 0 < v < float("inf"), "a number > 0")


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(float, text, lambda v: 0 <= v < float("inf"), "a number >= 0")


def field_help(cls: type) -> dict[str, str]:
    """The docstring line under each field of dataclass ``cls``."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    helps = {}
    for node, nxt in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            helps[node.target.id] = str(nxt.value.value)
    return helps


class _BooleanFlag(argparse.BooleanOptionalAction):
    """``--flag`` / ``--no-flag`` with the help text left as given (Python < 3.14 appends its own default)."""

    def __init__(self, *args: Any, help: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = help


def require(ok: bool, field: str, what: str, value: Any) -> None:
    """Raise ``ValueError("--<field> must be <what>, got <value>")`` unless ``ok``: checks in ``Args.__post_init__``.

    :param ok: the condition the value meets.
    :param field: the dataclass field (shown as its flag).
    :param what: what the value must be, e.g. ``"a positive integer"``.
    :param value: the value given.
    """
    if not ok:
        raise ValueError(f"--{field.replace('_', '-')} must be {what}, got {value!r}")


def parse_dataclass(
    cls: type[T],
    argv: Sequence[str] | None,
    prog: str,
    description: str = "",
    defaults: Mapping[str, Any] | None = None,
) -> T:
    """Build ``cls`` from ``argv``: ``--flag value`` per field, booleans as ``--flag`` / ``--no-flag``.

    :param cls: a dataclass whose fields are int, float, str or bool (or ``int | None`` etc.) with defaults.
    :param argv: the arguments (``None``: ``sys.argv[1:]``).
    :param prog: program name shown in ``--help`` and in error lines.
    :param description: one line shown in ``--help``.
    :param defaults: field defaults to use instead of the dataclass's (shown in ``--help`` too).
    :raises SystemExit: code 2 after one error line, for an unknown flag or a value of the wrong type.
    """
    defaults = dict(defaults or {})
    unknown = set(defaults) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"defaults name no field of {cls.__name__}: {sorted(unknown)}")
    parser = OneLineParser(prog=prog, description=plain(description))
    helps = field_help(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        name = f.type if isinstance(f.type, str) else f.type.__name__
        kind = _KINDS[name.removesuffix(" | None")]  # optional fields: default None, the help line says what it means
        default = defaults.get(f.name, f.default)
        text = with_default(helps.get(f.name, ""), default)
        if kind is bool:
            parser.add_argument(flag, action=_BooleanFlag, default=default, help=text)
        else:
            parser.add_argument(flag, type=kind, default=default, help=text)
    return cls(**vars(parser.parse_args(argv)))


__all__ = [
    "OneLineParser",
    "field_help",
    "nonnegative_float",
    "parse_dataclass",
    "plain",
    "positive_float",
    "positive_int",
    "require",
    "with_default",
]
