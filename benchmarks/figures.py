"""Figures 2 and 4 of the paper, drawn from our runs.

Figure 2: mean log p(a|s) under the Note RNN and mean rMT of sampled melodies during training.
Figure 4: each model's next-note probabilities along one melody, as heatmaps.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from benchmarks.page import MODEL_TITLES
from benchmarks.paper_numbers import PAPER_RL_ONLY_LOG_PRIOR
from reward_rules.tokens import NUM_CLASSES, token_name
from sequence_env.atomic import atomic_write

FIG2_FIELDS = ("model", "step", "mean_log_prior", "mean_music_theory")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_write(path, path.suffix) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")


def read_fig2_csv(path: str | Path) -> list[dict[str, float | str]]:
    """Rows of a Figure 2 CSV (see :data:`FIG2_FIELDS`)."""
    with open(path, newline="") as f:
        return [{"model": r["model"], **{k: float(r[k]) for k in FIG2_FIELDS[1:]}} for r in csv.DictReader(f)]


def write_fig2_csv(rows: Sequence[Mapping[str, float | str]], path: str | Path) -> None:
    """Write Figure 2 rows atomically."""
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIG2_FIELDS)
        writer.writeheader()
        writer.writerows({k: r[k] for k in FIG2_FIELDS} for r in rows)


def step_label(steps: float) -> str:
    """A training-step tick label short enough not to run into its neighbours: 320, 2.5k, 200k, 1M.

    :param steps: environment steps.
    """
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(steps) >= size:
            return f"{steps / size:.4g}{suffix}"
    return f"{steps:.4g}"


def draw_figure2(rows: Sequence[Mapping[str, float | str]]):
    """Figure 2 as a matplotlib figure (see :func:`plot_figure2`); the caller closes it."""
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    models = list(dict.fromkeys(str(r["model"]) for r in rows))
    for model in models:
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["step"])
        steps = [r["step"] for r in mine]
        label = MODEL_TITLES.get(model, model)
        axes[0].plot(steps, [r["mean_log_prior"] for r in mine], marker="o", ms=3, label=label)
        axes[1].plot(steps, [r["mean_music_theory"] for r in mine], marker="o", ms=3, label=label)
    axes[0].axhline(PAPER_RL_ONLY_LOG_PRIOR, color="grey", ls=":", lw=1, label="paper RL-only end")
    axes[0].set(title="(a) mean log p(a|s) under the Note RNN", xlabel="training steps", ylabel="log p(a|s)")
    axes[1].set(title="(b) mean music-theory reward rMT per note", xlabel="training steps", ylabel="rMT")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: step_label(x)))
    axes[0].legend(fontsize=8)
    return fig


def plot_figure2(rows: Sequence[Mapping[str, float | str]], path: str | Path) -> Path:
    """Figure 2 (a) mean log p(a|s) and (b) mean rMT per note against training steps, one line per model.

    The step axis is labelled in short form (:func:`step_label`), at most about six ticks.
    """
    fig = draw_figure2(rows)
    path = Path(path)
    _save(fig, path)
    _pyplot().close(fig)
    return path


def plot_figure4(melody: Sequence[int], probabilities: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """Figure 4: for each model, p(next note) at each step of ``melody`` (rows = classes, columns = steps).

    :param melody: the melody the models read, shape (T,).
    :param probabilities: model -> (T, 38) next-note probabilities along ``melody``.
    """
    plt = _pyplot()
    names = list(probabilities)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 4.2), sharey=True, squeeze=False)
    steps = len(melody)
    for ax, model in zip(axes[0], names, strict=True):
        probs = np.asarray(probabilities[model])
        if probs.shape != (steps, NUM_CLASSES):
            raise ValueError(f"{model}: expected probabilities of shape {(steps, NUM_CLASSES)}, got {probs.shape}")
        ax.imshow(probs.T, origin="lower", aspect="auto", cmap="magma", vmin=0.0, vmax=1.0)
        ax.plot(np.arange(steps), np.asarray(melody), "c.", ms=4)
        ax.set_title(MODEL_TITLES.get(model, model))
        ax.set_xlabel("step")
    ticks = [0, 1, *range(2, NUM_CLASSES, 12)]
    axes[0][0].set_yticks(ticks, [token_name(t) for t in ticks])
    axes[0][0].set_ylabel("next note (cyan: the melody)")
    path = Path(path)
    _save(fig, path)
    plt.close(fig)
    return path


__all__ = [
    "FIG2_FIELDS",
    "draw_figure2",
    "plot_figure2",
    "plot_figure4",
    "read_fig2_csv",
    "step_label",
    "write_fig2_csv",
]
