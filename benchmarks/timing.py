"""What every benchmark script shares: the best of a few timed runs, the machine line, the command line."""

from __future__ import annotations

import os
import platform
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch


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


def write_report(path: str | Path, lines: Sequence[str]) -> str:
    """Write the Markdown ``lines`` to ``path`` (folders made as needed), print them and return the text."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
    print(text, end="")
    return text


__all__ = ["best_time", "command", "machine", "write_report"]
