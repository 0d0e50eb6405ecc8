"""Every tuner trains on a tiny molecule task and raises its reward term (validity), through the agents' API."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import molecule_env  # noqa: F401  registers MoleculeCompose-v0
from agents import KLPPO, RLTuner
from molecule_env.scoring.terms import validity

ONLY_VALIDITY = {"validity": 1.0, "qed": 0.0, "sa": 0.0, "ring_penalty": 0.0, "penalized_logp": 0.0}
STEPS = 15_000


def _valid_share(model, env) -> float:
    sequences = model.generate(300, seed=1)
    positions = np.full(len(sequences), sequences.shape[1] - 1)
    return float(validity(sequences, positions, env.unwrapped.task.context).mean())


@pytest.mark.parametrize("algorithm", ["q", "psi", "g", "rl_only", "kl_ppo", "rloo"])
def test_each_algorithm_raises_validity_on_a_tiny_molecule_task(algorithm, tiny_prior_path):
    # A random 16-cell prior writes a valid molecule in 3 tokens (fixed length, end token included) ~4 % of
    # the time; a strong reward (c = 0.05) makes the KL-regularised optimum almost always valid.
    env = gym.make(
        "MoleculeCompose-v0",
        checkpoint=tiny_prior_path,
        max_length=3,
        fixed_length=True,
        weights=ONLY_VALIDITY,
        c=0.05,
        workers=0,
    )
    if algorithm in ("kl_ppo", "rloo"):
        model = KLPPO("PriorPolicy", env, algorithm="ppo" if algorithm == "kl_ppo" else "rloo", n_envs=16, seed=0,
                      learning_rate=1e-2)  # fmt: skip
    else:
        model = RLTuner(algorithm, env, n_envs=16, seed=0, learning_rate=1e-2, exploration="boltzmann")
    before = _valid_share(model, env)
    model.learn(STEPS)
    after = _valid_share(model, env)
    assert before < 0.1
    assert after > before + 0.2, f"{algorithm}: valid share {before:.3f} -> {after:.3f}"
