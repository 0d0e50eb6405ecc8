"""Provenance of a results folder: which code, packages, command and machine produced it, and when.

Every command that writes results (``rl-tuner sweep``, ``compare``, ``reproduce``, ``speed``, ``outside``,
``python -m benchmarks.ablations`` …) writes ``provenance.json`` into its output folder, or
``<name>.provenance.json`` beside an output file (``speed.md`` → ``speed.provenance.json``)::

    with recorded("runs/sweep", "rl-tuner sweep --seeds 5 --out runs/sweep"):
        ...  # the run

It holds the git commit of this project's source and whether the checkout had uncommitted changes
(``"unknown"`` outside a git checkout), the versions of the packages the numbers depend on, the command
and ``sys.argv`` as run, the machine (platform, CPU model, cores), the start date (UTC) and the wall
time. Each trial of a sweep records the commit it was trained at (:func:`code_state`, in its
``stats.json``), and a report refuses to mix trials of different commits (:func:`check_one_commit`).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sequence_env.atomic import atomic_write

UNKNOWN = "unknown"
PACKAGES = ("torch", "numpy", "scipy", "gymnasium", "stable-baselines3", "sb3-contrib", "ray", "optuna", "music21",
            "muspy", "rdkit", "molsets", "fcd-torch", "rl-tuner")  # fmt: skip
"""Distributions whose versions are recorded (those installed; ``python`` is recorded too)."""
SOURCE = Path(__file__).resolve().parent.parent
"""The folder holding this project's packages: its git state is the code that ran."""
OUTPUTS = ("benchmarks/results",)
"""Folders of results, not code: files written there while a run goes on do not make the checkout dirty."""


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(SOURCE), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@lru_cache(maxsize=1)
def code_state() -> dict[str, Any]:
    """``{"commit": full hash or "unknown", "dirty": bool or None}`` of the source this process imported.

    Read once per process (the code a process runs does not change under it); ``dirty`` counts tracked
    files changed and untracked files not ignored, as ``git status --porcelain`` lists them, outside
    :data:`OUTPUTS` (so the results one run writes do not mark the next run of a series dirty).
    """
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return {"commit": UNKNOWN, "dirty": None}
    excluded = [f":(exclude){folder}" for folder in OUTPUTS]
    status = _git("status", "--porcelain", "--untracked-files=normal", "--", ".", *excluded)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (absent ones left out), plus ``python``."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` where that file is missing)."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or UNKNOWN


def machine() -> dict[str, Any]:
    """The platform, the CPU model and the number of cores."""
    return {"platform": platform.platform(), "architecture": platform.machine(), "cpu": cpu_model(),
            "cores": os.cpu_count()}  # fmt: skip


def command_line(argv: Iterable[str] | None = None) -> list[str]:
    """``sys.argv`` as run, the program by its name (``/venv/bin/rl-tuner sweep …`` → ``rl-tuner sweep …``)."""
    argv = list(sys.argv if argv is None else argv)
    return [Path(argv[0]).name, *argv[1:]] if argv else []


def provenance(command: str, started: float, wall_seconds: float) -> dict[str, Any]:
    """What ``provenance.json`` holds.

    :param command: the command that wrote the folder, as a user would type it.
    :param started: its start, seconds since the epoch. :param wall_seconds: its wall time.
    """
    return {
        **code_state(),
        "command": command,
        "argv": command_line(),
        "packages": package_versions(),
        "machine": machine(),
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
    }


def provenance_path(out: str | os.PathLike) -> Path:
    """Where the provenance of ``out`` goes: ``out/provenance.json`` for a folder, ``<stem>.provenance.json``
    beside a file (a path with a suffix)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.provenance.json") if out.suffix else out / "provenance.json"


def write_provenance(out: str | os.PathLike, record: Mapping[str, Any]) -> Path:
    """Write ``record`` as the provenance of ``out``, atomically; return its path."""
    path = provenance_path(out)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_provenance(out: str | os.PathLike) -> dict[str, Any] | None:
    """The provenance of ``out``, ``None`` if it has none or the file is not JSON."""
    try:
        return json.loads(provenance_path(out).read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def recorded(out: str | os.PathLike, command: str) -> Iterator[None]:
    """Write the provenance of ``out`` when the block ends without an error (with its wall time)."""
    started, start = time.time(), time.perf_counter()
    yield
    write_provenance(out, provenance(command, started, time.perf_counter() - start))


def commits_of(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Commit → how many of ``results`` (trials' ``stats.json`` contents) were made at it; ``"unknown"`` for
    results that do not say (written before trials recorded their commit)."""
    counts: dict[str, int] = {}
    for result in results:
        commit = result.get("code", {}).get("commit", UNKNOWN)
        counts[commit] = counts.get(commit, 0) + 1
    return counts


def check_one_commit(counts: Mapping[str, int], allow_mixed: bool, fix: str) -> None:
    """Refuse results of several commits unless ``allow_mixed``.

    :param counts: from :func:`commits_of`. :param fix: the flag that allows it, named in the message.
    :raises ValueError: more than one commit and not ``allow_mixed``.
    """
    if len(counts) > 1 and not allow_mixed:
        listed = ", ".join(f"{n} at {c[:12]}" for c, n in counts.items())
        raise ValueError(
            f"the results were made by different code ({listed}); rerun them at one commit (a fresh --out), or "
            f"pass {fix} to report them together"
        )


def mixed_note(counts: Mapping[str, int]) -> str | None:
    """The report's sentence when its results come from several commits (``None`` for one commit)."""
    if len(counts) <= 1:
        return None
    listed = ", ".join(f"{n} trained at `{c[:12]}`" for c, n in counts.items())
    return f"**These results mix code of {len(counts)} commits** ({listed}); a run at one commit may differ."


__all__ = [
    "PACKAGES",
    "UNKNOWN",
    "check_one_commit",
    "code_state",
    "command_line",
    "commits_of",
    "cpu_model",
    "machine",
    "mixed_note",
    "package_versions",
    "provenance",
    "provenance_path",
    "read_provenance",
    "recorded",
    "write_provenance",
]
