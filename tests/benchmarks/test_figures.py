"""Figures 2 and 4 are written from their data, and bad shapes are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.figures import plot_figure2, plot_figure4, read_fig2_csv, write_fig2_csv


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
