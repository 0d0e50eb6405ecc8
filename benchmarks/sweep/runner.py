"""``run_sweep``: the whole sweep — the trials on Ray Tune, then the summary, the tables and the figures.

Writes under ``config.out``: ``trials/<cell>/seed_<s>/`` (``model.zip``, ``stats.json``,
``progress.csv``), ``summary.json``, ``table1.md``, Figure 2 with seed bands (``fig2.png``, one
``fig2_c=<c>.png`` per c when there are several) and, with several c, ``c_tradeoff.png``; with
``--outside N`` also each seed's ``outside.json``, ``summary.json``'s ``"outside"`` and ``outside.md``
(:mod:`benchmarks.sweep.outside_report`); last ``provenance.json`` (:mod:`benchmarks.provenance`).
Trials finished by an earlier run of the same sweep are read back, not rerun; a seed finished without its
``outside.json`` gets it from its ``model.zip``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.provenance import recorded
from benchmarks.sweep.figures import plot_c_tradeoff, plot_figure2_bands, read_curve
from benchmarks.sweep.grid import NOTE_RNN, SweepConfig, grid_trials
from benchmarks.sweep.outside_report import collect_outside, summarise_outside, write_outside_report
from benchmarks.sweep.report import build_summary, collect, scan, write_report
from benchmarks.sweep.trial import CURVE_FILE, pending, seed_dir


def write_figures(
    out: Path, results: Mapping[str, Sequence[Mapping[str, Any]]], cells: Mapping[str, Any], split_by_c: bool = True
) -> list[Path]:
    """Figure 2 with seed bands (one per c if ``split_by_c``), and the c trade-off figure when the cells span
    several c."""
    by_c: dict[str, dict[str, list]] = {}
    for key, seeds in results.items():
        if key != NOTE_RNN and seeds:
            curves = [read_curve(seed_dir(out, key, r["identity"]["seed"]) / CURVE_FILE) for r in seeds]
            by_c.setdefault(key.split("/")[1] if split_by_c else "all", {})[key] = curves
    baseline = {k: cells[NOTE_RNN]["stats"][k]["mean"] for k in ("mean_log_prior", "mean_music_theory_reward")}
    paths = [plot_figure2_bands(curves, baseline, out / ("fig2.png" if len(by_c) == 1 else f"fig2_{c}.png"))
             for c, curves in by_c.items()]  # fmt: skip
    if len({key.split("/")[1] for key in cells if key != NOTE_RNN}) > 1:
        paths.append(plot_c_tradeoff(cells, out / "c_tradeoff.png"))
    return paths


def run_sweep(config: SweepConfig, command: str = "", write: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the sweep ``config`` (resuming in ``config.out``) and return ``summary.json``'s content.

    :param config: the sweep. :param command: the command line, recorded in the summary.
    :param write: where progress lines go.
    :raises ValueError: ``config.out`` holds runs of other settings for the same cells.
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with recorded(out, command):
        return _run(config, out, command, write)


def _run(config: SweepConfig, out: Path, command: str, write: Callable[[str], None]) -> dict[str, Any]:
    specs = grid_trials(config)
    if config.search == "optuna":
        specs = [s for s in specs if s.algorithm == NOTE_RNN]
    todo = pending(specs, out)
    searched = f" of the Note RNN, then {config.samples} sampled by Optuna" if config.search == "optuna" else ""
    write(f"[sweep] {len(specs)} trials{searched}, {len(specs) - len(todo)} finished before; results in {out}")
    start = time.perf_counter()
    failed: list[str] = []
    if todo or config.search == "optuna":
        from benchmarks.sweep.engine import run_on_ray

        failed = run_on_ray(config, todo, write)
    results = scan(out) if config.search == "optuna" else collect(out, specs)
    summary = build_summary(results, config.settings(), command, failed, config.allow_mixed_commits)
    if config.outside:
        summary["outside"] = summarise_outside(collect_outside(out, results, config.outside), config.outside)
    summary["wall_time_seconds"] = time.perf_counter() - start
    write_report(out, summary)
    tables = [out / "table1.md"]
    if config.outside:
        tables.append(write_outside_report(out, summary))
    write_figures(out, results, summary["cells"], split_by_c=config.search == "grid")
    write(f"[sweep] {len(results)} cells in {out / 'summary.json'} and {' and '.join(map(str, tables))}")
    return summary


__all__ = ["run_sweep", "write_figures"]
