"""The molecule benchmarks: sampling with log-probabilities, the table's statistics, the CLI routing."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import molecule_env  # noqa: F401
from benchmarks.molecules.cli import task_option
from benchmarks.molecules.report import mean_std
from benchmarks.molecules.sampling import agent_step, sample
from rl_tuner_cli.main import main as rl_tuner


def test_prior_samples_have_zero_kl_and_their_log_prior(tiny_prior_path):
    env = gym.make("MoleculeCompose-v0", checkpoint=tiny_prior_path)
    prior, vocabulary = env.unwrapped.prior, env.unwrapped.task.vocabulary
    samples = sample(prior, vocabulary, 50, 8, seed=0)
    np.testing.assert_array_equal(samples.log_policy, samples.log_prior)
    # log p of row 0 recomputed with the prior's whole-sequence pass, up to its end token
    row = samples.tokens[0]
    end = int(np.argmax(row == vocabulary.end)) + 1 if (row == vocabulary.end).any() else len(row)
    import torch

    seq = torch.as_tensor(np.concatenate([[vocabulary.begin], row[:end]]))[None]
    assert float(prior.log_prob(seq).sum()) == pytest.approx(samples.log_prior[0], abs=1e-4)
    again = sample(prior, vocabulary, 50, 8, seed=0)
    np.testing.assert_array_equal(again.tokens, samples.tokens)


def test_a_tuners_samples_carry_its_policy_log_probs(tiny_prior_path):
    from agents import RLTuner

    env = gym.make("MoleculeCompose-v0", checkpoint=tiny_prior_path, max_length=6, fixed_length=True)
    tuner = RLTuner("g", env, n_envs=4, seed=0, compiled_step=False)
    samples = sample(env.unwrapped.prior, env.unwrapped.task.vocabulary, 20, 6, seed=0, policy=agent_step(tuner))
    kl = samples.log_policy - samples.log_prior
    assert np.all(np.isfinite(kl)) and abs(kl.mean()) < 1.0  # an untrained G policy is close to the prior


def test_mean_std_uses_the_sample_standard_deviation():
    assert mean_std([1.0, 2.0, 3.0]) == "2.000 ± 1.000"
    assert mean_std([0.5]) == "0.500" and mean_std([math.nan, None]) == "–"


def test_task_option_and_the_cli_routes_molecule_commands(tiny_prior_path, capsys):
    assert task_option(["generate", "--task", "molecule"]) == "molecule"
    assert task_option(["sweep", "--task=molecule"]) == "molecule" and task_option(["train"]) is None
    assert rl_tuner(["generate", "--task", "molecule", "--checkpoint", str(tiny_prior_path), "--n", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_a_missing_extra_is_one_line_naming_the_install(tiny_prior_path, capsys, monkeypatch):
    import sys

    from molecule_env.scoring import properties

    for name in ("rdkit", "rdkit.Chem"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of it fails, as where it is not installed
    properties._chem.cache_clear()
    try:
        code = rl_tuner(["generate", "--task", "molecule", "--checkpoint", str(tiny_prior_path), "--n", "2"])
    finally:
        properties._chem.cache_clear()
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "pip install" in err and "rl-tuner[molecules]" in err
