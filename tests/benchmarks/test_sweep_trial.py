"""One trial without Ray: it trains, keeps its model and statistics, and a rerun reads them back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from agents import RLTuner
from benchmarks.sweep.grid import SweepConfig, grid_trials
from benchmarks.sweep.scoring import policy_kl_to_prior
from benchmarks.sweep.trial import MODEL_FILE, STATS_FILE, pending, run_seed, seed_dir
from melody_env.note_rnn import NoteRNN


@pytest.mark.parametrize("algorithm", ["q", "g"])
def test_kl_to_prior_matches_the_policy_along_the_melody(algorithm: str) -> None:
    tuner = RLTuner(algorithm, "MelodyCompose-v0", n_envs=4, seed=0)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in tuner.networks.q_net.parameters():  # move the policy away from the prior
            param.add_(0.3 * torch.randn(param.shape, generator=generator))
    melody, primer = tuner.generate(1, seed=2)[0], 20
    got = policy_kl_to_prior(tuner, np.array([primer]), melody[None])[0]
    pi = tuner.next_note_probabilities(melody, primer)  # (T, 38) stepped one note at a time
    inputs = np.concatenate([[primer], melody[:-1]])
    p = torch.softmax(tuner.networks.reward_rnn(torch.as_tensor(inputs)[None])[0][0], -1).numpy()
    expected = (pi * (np.log(pi) - np.log(p))).sum(1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert (got > 0).all()


def test_kl_of_the_note_rnn_is_zero() -> None:
    assert not policy_kl_to_prior(NoteRNN(), np.array([3]), np.array([[5, 6, 7]])).any()


def test_seed_trains_once_and_is_read_back(tmp_path: Path) -> None:
    spec = grid_trials(SweepConfig(algorithms=("psi",), seeds=1, steps=320, melodies=20, n_envs=32))[1]
    first = run_seed(spec, 0, tmp_path)
    folder = seed_dir(tmp_path, "psi/c=0.5", 0)
    assert RLTuner.load(folder / MODEL_FILE).algorithm == "psi"
    assert json.loads((folder / STATS_FILE).read_text()) == first
    assert {"notes_in_motif", "kl_to_prior", "mean_log_prior", "distinct_melodies"} <= set(first["stats"])
    samples = (folder / "samples.txt").read_text().splitlines()
    distinct = round(first["stats"]["distinct_melodies"] * 20)
    assert samples[0] == f"{distinct} distinct of 20 melodies; the most frequent:" and len(samples) == 11
    assert first["code"]["commit"]  # the commit it was trained at ("unknown" outside a checkout)
    stamp = (folder / MODEL_FILE).stat().st_mtime_ns
    assert run_seed(spec, 0, tmp_path) == first
    assert (folder / MODEL_FILE).stat().st_mtime_ns == stamp
    assert pending([spec], tmp_path) == []
    (folder / STATS_FILE).rename(folder / "kept.json")  # as if interrupted before the seed finished
    assert pending([spec], tmp_path) == [spec]
    (folder / "kept.json").rename(folder / STATS_FILE)
    longer = grid_trials(SweepConfig(algorithms=("psi",), seeds=1, steps=640, melodies=20, n_envs=32))[1]
    with pytest.raises(ValueError, match=r"other settings.*steps 320 there, 640 now"):
        pending([longer], tmp_path)


def test_a_trials_seeds_train_as_one_population_with_the_results_of_seed_by_seed(tmp_path: Path) -> None:
    from benchmarks.sweep.trial import run_trial

    config = {"algorithms": ("g",), "seeds": 2, "steps": 320, "melodies": 20, "n_envs": 32}
    together = grid_trials(SweepConfig(**config, seeds_per_trial=2))[1]
    assert together.seeds == (0, 1)
    results = run_trial(together, tmp_path / "population")
    assert [r["trained_together"] for r in results] == [2, 2]
    for seed, result in zip((0, 1), results, strict=True):
        alone = run_seed(grid_trials(SweepConfig(**config))[1 + 1 + seed], seed, tmp_path / "alone")
        assert alone["trained_together"] == 1 and alone["identity"] == result["identity"]
        assert alone["stats"] == result["stats"]


def test_kl_ppo_trains_and_scores_in_a_trial(tmp_path: Path) -> None:
    spec = grid_trials(SweepConfig(algorithms=("rloo",), seeds=1, steps=256, melodies=20, n_envs=8))[1]
    result = run_seed(spec, 0, tmp_path)
    assert result["stats"]["kl_to_prior"] >= 0 and np.isfinite(result["stats"]["mean_log_prior"])
