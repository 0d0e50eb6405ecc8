"""The sweep's figures: Figure 2 with a band over seeds, and the c trade-off.

Figure 2 here is drawn from the training logger (``reward/log_prior`` and ``reward/music_theory``,
the means over the melodies composed while training, exploration included, between two log
dumps), read from each seed's ``progress.csv``: one line per cell (the mean over seeds) and a band
from the lowest to the highest seed. The dotted lines are the Note RNN's scored means. The c figure
puts each (algorithm, c) at its mean log p(a|s) against its mean rMT, with the 95 % intervals over
seeds as error bars, and draws the share of distinct melodies against c.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.figures import _pyplot, _save
from benchmarks.sweep.grid import NOTE_RNN
from benchmarks.sweep.report import cell_title

Curve = tuple[np.ndarray, np.ndarray, np.ndarray]
CURVE_KEYS = ("time/total_timesteps", "reward/log_prior", "reward/music_theory")


def read_curve(path: str | Path) -> Curve:
    """``(steps, mean log p, mean rMT)`` of the rows of an SB3 ``progress.csv`` that hold both rewards."""
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(r.get(k) not in (None, "") for k in CURVE_KEYS)]
    step, log_p, r_mt = (np.array([float(r[k]) for r in rows]) for k in CURVE_KEYS)
    return step, log_p, r_mt


def seed_band(curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds' curves on the steps of the shortest one (linear interpolation): ``(steps, log p (k, S), rMT (k, S))``.

    Seeds without a logged row are left out.
    """
    curves = [c for c in curves if len(c[0])]
    if not curves:
        return np.array([]), np.zeros((0, 0)), np.zeros((0, 0))
    steps = min((c[0] for c in curves), key=len)
    log_p = np.stack([np.interp(steps, c[0], c[1]) for c in curves])
    return steps, log_p, np.stack([np.interp(steps, c[0], c[2]) for c in curves])


def plot_figure2_bands(curves: Mapping[str, Sequence[Curve]], baseline: Mapping[str, float], path: str | Path) -> Path:
    """Figure 2 (a) mean log p(a|s) and (b) mean rMT against training steps: mean over seeds, band min-max.

    :param curves: cell key → one curve per seed (:func:`read_curve`).
    :param baseline: the Note RNN's ``mean_log_prior`` and ``mean_music_theory_reward`` (drawn dotted).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for key, seeds in curves.items():
        steps, log_p, r_mt = seed_band(seeds)
        if not len(steps):
            continue
        label = f"{cell_title(key)} ({log_p.shape[0]} seeds)"
        for ax, values in zip(axes, (log_p, r_mt), strict=True):
            marker = "o" if len(steps) < 20 else None  # a short run's few dumps stay visible
            (line,) = ax.plot(steps, values.mean(0), lw=1.5, marker=marker, ms=3, label=label)
            ax.fill_between(steps, values.min(0), values.max(0), color=line.get_color(), alpha=0.2, lw=0)
    for ax, name in zip(axes, ("mean_log_prior", "mean_music_theory_reward"), strict=True):
        ax.axhline(baseline[name], color="grey", ls=":", lw=1, label="Note RNN")
        ax.grid(alpha=0.3)
    axes[0].set(title="(a) mean log p(a|s) while training", xlabel="training steps", ylabel="log p(a|s)")
    axes[1].set(title="(b) mean rMT per note while training", xlabel="training steps", ylabel="rMT")
    axes[0].legend(fontsize=7)
    fig.suptitle("line: mean over seeds; band: lowest to highest seed", fontsize=9)
    path = Path(path)
    _save(fig, path)
    plt.close(fig)
    return path


def _errors(stat: Mapping[str, Any]) -> tuple[float, float]:
    low, high = stat["ci"]
    return stat["mean"] - low, high - stat["mean"]


def plot_c_tradeoff(cells: Mapping[str, Mapping[str, Any]], path: str | Path) -> Path:
    """(a) mean log p(a|s) against mean rMT per (algorithm, c), error bars over seeds; (b) distinct melodies against c.

    :param cells: ``summary.json``'s cells (keys ``"<algorithm>/c=<c>"``; the Note RNN is drawn as a star).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    groups: dict[str, list[tuple[float, Mapping[str, Any]]]] = {}
    for key, cell in cells.items():
        if key != NOTE_RNN and cell["stats"]["mean_log_prior"]["mean"] is not None:
            algorithm, c_part, *rest = key.split("/")
            groups.setdefault("/".join([algorithm, *rest]), []).append((float(c_part.removeprefix("c=")), cell))
    for name, points in groups.items():
        points.sort(key=lambda p: p[0])
        c_values = [c for c, _ in points]
        lp = [cell["stats"]["mean_log_prior"] for _, cell in points]
        mt = [cell["stats"]["mean_music_theory_reward"] for _, cell in points]
        dm = [cell["stats"]["distinct_melodies"] for _, cell in points]
        counts = sorted({cell["n_seeds"] for _, cell in points})
        seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        label = f"{cell_title(name)} ({seeds} seeds)"
        x, y = [s["mean"] for s in mt], [s["mean"] for s in lp]
        xerr, yerr = np.array([_errors(s) for s in mt]).T, np.array([_errors(s) for s in lp]).T
        bar = axes[0].errorbar(x, y, xerr=xerr, yerr=yerr, marker="o", ms=4, capsize=2, label=label)
        for c, xy in zip(c_values, zip(x, y, strict=True), strict=True):
            axes[0].annotate(f"c={c:.3g}", xy, fontsize=7, xytext=(3, 3), textcoords="offset points")
        axes[1].errorbar(c_values, [100 * s["mean"] for s in dm], yerr=100 * np.array([_errors(s) for s in dm]).T,
                         marker="o", ms=4, capsize=2, color=bar.lines[0].get_color(), label=label)  # fmt: skip
    if NOTE_RNN in cells:
        base = cells[NOTE_RNN]["stats"]
        xy = base["mean_music_theory_reward"]["mean"], base["mean_log_prior"]["mean"]
        axes[0].plot(*xy, "k*", ms=10, label="Note RNN")
        axes[1].axhline(100 * base["distinct_melodies"]["mean"], color="k", ls=":", lw=1, label="Note RNN")
    axes[0].set(title="(a) data likelihood against rules, per c", xlabel="mean rMT per note", ylabel="mean log p(a|s)")
    axes[1].set(title="(b) distinct melodies", xlabel="c", ylabel="distinct melodies (%)", xscale="log")
    c_ticks = sorted({c for points in groups.values() for c, _ in points})
    axes[1].set_xticks(c_ticks, [f"{c:.3g}" for c in c_ticks], minor=False)
    axes[1].minorticks_off()
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("points: mean over seeds; error bars: 95 % stratified-bootstrap intervals over seeds", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    _save(fig, path)
    plt.close(fig)
    return path


__all__ = ["CURVE_KEYS", "plot_c_tradeoff", "plot_figure2_bands", "read_curve", "seed_band"]
