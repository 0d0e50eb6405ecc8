"""The outside measures of ``rl-tuner reproduce --outside N`` (docs/spec.md §9).

Each scoring worker measures the first N melodies of its model (:func:`measure`) against the
reference of the sweeps (:mod:`benchmarks.sweep.outside`, built once per process). The reproduction
then writes the report ``rl-tuner outside`` writes (:func:`outside_report`: ``outside.json`` and
``outside.md``), a short table for ``table1.md`` (:func:`outside_markdown`) and the listening page's
section (:func:`page_summary`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.outside.cli import Args as OutsideArgs
from benchmarks.outside.measures import outside_measures, reference_summary
from benchmarks.outside.report import SHORT_HEAD, markdown_table, short_summary, write_report
from benchmarks.page import OutsideSummary
from benchmarks.sweep import outside as sweep_outside
from benchmarks.timing import machine


@dataclass(frozen=True)
class Outside:
    """One model's outside measures, made in its scoring worker.

    :param measures: :func:`~benchmarks.outside.measures.outside_measures` of its first melodies.
    :param validation: :func:`~benchmarks.outside.measures.reference_summary` of the reference.
    :param reference_seconds: getting the reference (building it, the first time in a process).
    :param seconds: measuring the melodies.
    """

    measures: dict
    validation: dict
    reference_seconds: float
    seconds: float


def measure(melodies: np.ndarray, seed: int) -> Outside:
    """The outside measures of ``melodies (n, 32)`` against the validation openings, pairs and key sample seeded
    with ``seed`` (as a sweep seed's ``outside.json``)."""
    start = time.perf_counter()
    source = sweep_outside.SOURCE
    reference = sweep_outside.reference(source)
    middle = time.perf_counter()
    measures = outside_measures(melodies, reference, seed=seed, key_sample=source.key_sample)
    return Outside(measures, reference_summary(reference), middle - start, time.perf_counter() - middle)


def outside_report(measured: dict[str, Outside], melodies: int, out: str, seed: int, command: str,
                   wall: float) -> dict:  # fmt: skip
    """The report of ``rl-tuner outside`` (:func:`benchmarks.outside.cli.run`) from the workers' measures, written
    to ``out`` as ``outside.json`` and ``outside.md``.

    :param measured: model -> its :class:`Outside`. :param melodies: melodies measured per model.
    :param wall: ``time.perf_counter()`` when the reproduction started.
    """
    source = sweep_outside.SOURCE
    settings = OutsideArgs(",".join(measured), melodies, out, seed, source.pairs, source.key_sample)
    seconds = {"validation": sum(m.reference_seconds for m in measured.values())}
    report = {
        "command": command,
        "machine": machine(),
        "wall_time_seconds": time.perf_counter() - wall,
        "seconds": seconds | {name: m.seconds for name, m in measured.items()},
        "settings": asdict(settings),
        "validation": next(iter(measured.values())).validation,
        "models": {name: m.measures for name, m in measured.items()},
    }
    write_report(report, Path(out))
    return report


def outside_markdown(report: dict) -> str:
    """The short outside table of ``table1.md`` (:func:`~benchmarks.outside.report.short_summary`)."""
    lead, rows = short_summary(report)
    s = report["settings"]
    return (
        "\n## Judged from outside\n\n"
        f"The first {s['melodies']:,} melodies of each model against {report['validation']['melodies']:,} held-out "
        "validation openings: Yang & Lerch (2018) overlapping area (OA) and KL divergence on muspy's features, "
        "averaged over the features no rule measures and over the others, and music21's key; "
        f"{sum(report['seconds'].values()):.0f} s in the scoring workers. Every number: outside.md.\n\n"
        + lead
        + "\n\n"
        + "\n".join(markdown_table(SHORT_HEAD, rows))
        + "\n"
    )


def page_summary(report: dict) -> OutsideSummary:
    """The listening page's "Judged from outside" section of ``report``."""
    lead, rows = short_summary(report)
    return OutsideSummary(report["settings"]["melodies"], lead, SHORT_HEAD, rows)


__all__ = ["Outside", "measure", "outside_markdown", "outside_report", "page_summary"]
