"""The simulated listener: its rMT score and its rating rule (used by tests and the labelled demonstration only)."""

from __future__ import annotations

import numpy as np
import pytest

from listening_study.simulate import mean_rmt, simulated_likert
from reward_rules import music_theory_rewards


def test_mean_rmt_is_the_per_note_mean_of_the_rules() -> None:
    rng = np.random.default_rng(0)
    melodies = rng.integers(0, 38, size=(3, 32))
    expected = [music_theory_rewards(m).sum(axis=1).mean() for m in melodies]
    assert mean_rmt(melodies) == pytest.approx(expected)


def test_simulated_likert_prefers_the_higher_score() -> None:
    rng = np.random.default_rng(1)
    assert simulated_likert(1.0, 1.0, 7, rng, 0.5) == 4  # the same melody twice: no preference
    sure = [simulated_likert(0.0, 10.0, 7, rng, 0.5) for _ in range(50)]
    assert set(sure) == {7}  # σ(20) ≈ 1: always B, as strongly as the scale allows
    unsure = [simulated_likert(0.0, 0.2, 7, rng, 0.5) for _ in range(400)]
    # σ(0.4) = 0.599: B about 60 % of the time, one step from the middle (|2p − 1| · 3 < 1).
    assert set(unsure) == {3, 5} and 0.52 < np.mean(np.array(unsure) == 5) < 0.67
    assert set(simulated_likert(5.0, 0.0, 5, rng, 0.5) for _ in range(20)) == {1}
