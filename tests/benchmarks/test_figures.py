"""Figures 2 and 4 are written from their data, and bad shapes are refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from benchmarks.figures import (
    draw_figure2,
    plot_figure2,
    plot_figure4,
    read_fig2_csv,
    step_label,
    write_fig2_csv,
)


def test_fig2_csv_round_trip_and_plot(tmp_path: Path) -> None:
    rows = [
        {"model": "q", "step": 0.0, "mean_log_prior": -1.5, "mean_music_theory": -20.0},
        {"model": "q", "step": 1000.0, "mean_log_prior": -2.0, "mean_music_theory": 3.5},
    ]
    write_fig2_csv(rows, tmp_path / "fig2.csv")
    assert read_fig2_csv(tmp_path / "fig2.csv") == rows
    png = plot_figure2(rows, tmp_path / "fig2.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fig4_refuses_wrong_shape(tmp_path: Path) -> None:
    melody = np.full(4, 14)
    with pytest.raises(ValueError, match=r"q: expected probabilities of shape \(4, 38\)"):
        plot_figure4(melody, {"q": np.ones((3, 38)) / 38}, tmp_path / "fig4.png")
    png = plot_figure4(melody, {"q": np.ones((4, 38)) / 38}, tmp_path / "fig4.png")
    assert png.stat().st_size > 1000


def test_step_label_is_short() -> None:
    assert [step_label(s) for s in (0, 320, 2_500, 25_000, 200_000, 1_000_000, 1_500_000)] == [
        "0", "320", "2.5k", "25k", "200k", "1M", "1.5M",
    ]  # fmt: skip


@pytest.mark.parametrize("last_step", [320, 200_000, 1_000_000])
def test_fig2_step_labels_do_not_run_into_each_other(last_step: int) -> None:
    steps = np.linspace(0, last_step, 11)
    rows = [{"model": m, "step": float(s), "mean_log_prior": -1.0, "mean_music_theory": 0.0}
            for m in ("q", "g") for s in steps]  # fmt: skip
    fig = draw_figure2(rows)
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert len(boxes) >= 3
        visible = [b for b in boxes if ax.bbox.x0 - 1 <= (b.x0 + b.x1) / 2 <= ax.bbox.x1 + 1]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert all(a.x1 < b.x0 for a, b in itertools.pairwise(visible)), labels
