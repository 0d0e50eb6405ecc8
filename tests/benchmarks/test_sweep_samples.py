"""The most frequent melodies of a seed, in the README's notation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.sweep.samples import most_common, samples_text, write_samples
from reward_rules.tokens import token_name


def test_most_common_counts_rows_and_breaks_ties_by_first_appearance() -> None:
    melodies = np.array([[5, 0, 1], [2, 1, 1], [5, 0, 1], [7, 7, 7], [2, 1, 1], [5, 0, 1]])
    found = most_common(melodies, k=2)
    assert [c for c, _ in found] == [3, 2]
    assert found[0][1].tolist() == [5, 0, 1] and found[1][1].tolist() == [2, 1, 1]  # [7,7,7] once: left out
    text = samples_text(melodies, k=3)
    lines = text.splitlines()
    assert lines[0] == "3 distinct of 6 melodies; the most frequent:"
    assert lines[1] == "      3  " + " ".join(token_name(t) for t in (5, 0, 1)) and len(lines) == 4


def test_write_samples(tmp_path: Path) -> None:
    path = write_samples(tmp_path / "seed_0" / "samples.txt", np.zeros((4, 2), dtype=np.int64))
    assert path.read_text().startswith("1 distinct of 4 melodies")
