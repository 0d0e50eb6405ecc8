"""What every benchmark script shares: the best of a few timed runs, the machine line, the command line, and the
report written as Markdown with its tables as JSON beside it (``speed.md`` → ``speed.json``)."""

from __future__ import annotations

import json
import os
import platform
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from sequence_env.atomic import atomic_write


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls of ``fn``, in seconds (the machine is shared, so the best is kept).

    :param fn: the work to time, called with no arguments.
    :param repeats: number of calls, at least 1.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    """One line naming the machine: platform, cores, Python, torch (with its threads) and numpy versions."""
    threads = torch.get_num_threads()
    return (
        f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__} ({threads} thread{'s' * (threads != 1)}), "
        f"numpy {np.__version__}"
    )


def command(module: str, argv: Sequence[str]) -> str:
    """The shell command that reruns ``python -m module`` with ``argv``."""
    return shlex.join(["python", "-m", module, *argv])


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("**", "") for cell in line.strip().strip("|").split("|")]


def markdown_tables(lines: Sequence[str]) -> list[dict[str, object]]:
    """The tables of a Markdown report: per table its section (the last ``#`` heading above it, without the
    hashes), its column names and its rows of cell texts (bold marks removed)."""
    tables: list[dict[str, object]] = []
    section, table = "", None
    text = [part for line in lines for part in line.split("\n")]
    for i, line in enumerate(text):
        if line.startswith("#"):
            section, table = line.lstrip("#").strip(), None
        elif line.startswith("|") and table is None and i + 1 < len(text) and text[i + 1].startswith("|---"):
            table = {"section": section, "columns": _cells(line), "rows": []}
            tables.append(table)
        elif line.startswith("|") and table is not None:
            if not line.startswith("|---"):
                table["rows"].append(_cells(line))  # type: ignore[union-attr]
        else:
            table = None
    return tables


def write_report(path: str | Path, lines: Sequence[str]) -> str:
    """Write the Markdown ``lines`` to ``path`` (folders made as needed) and its tables as JSON to ``path`` with
    the suffix ``.json`` (:func:`markdown_tables`, for the README's figures); print the text and return it."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    data = {"report": path.name, "tables": markdown_tables(lines), "lines": text.splitlines()}
    with atomic_write(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(text, end="")
    return text


__all__ = ["best_time", "command", "machine", "markdown_tables", "write_report"]
