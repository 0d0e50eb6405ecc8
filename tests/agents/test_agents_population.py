"""A Population trains each member exactly as it would train alone."""

import pytest
import torch

from agents import RLTuner
from agents.population import Population


def _tuner(make_env, note_rnn, algorithm, seed, **kw):
    env = make_env(algorithm, num_envs=6)
    return RLTuner(algorithm, env, prior=note_rnn, seed=seed, batch_size=8, buffer_size=500, **kw)


MEMBERS = [("q", 0, {}), ("g", 1, {"c": 2.0}), ("psi", 2, {"exploration": "boltzmann"})]


def test_members_equal_solo_runs(make_env, note_rnn):
    population = [_tuner(make_env, note_rnn, a, s, **kw) for a, s, kw in MEMBERS]
    trained = Population(population).learn(600)
    assert trained == population
    for (algorithm, seed, kw), member in zip(MEMBERS, population, strict=True):
        alone = _tuner(make_env, note_rnn, algorithm, seed, **kw).learn(600)
        assert member.num_timesteps == alone.num_timesteps == 600
        assert member._n_updates == alone._n_updates > 0
        assert torch.equal(member.networks.theta, alone.networks.theta), algorithm
        assert torch.equal(member.networks.target, alone.networks.target), algorithm
        assert torch.equal(member.adam.exp_avg_sq, alone.adam.exp_avg_sq), algorithm
        assert torch.equal(member.replay_buffer.reward_terms, alone.replay_buffer.reward_terms), algorithm
        # the module parameters are the trained rows (what save, predict and generate read)
        assert torch.equal(member.networks.q_net.head.bias, alone.networks.q_net.head.bias)


def test_trained_members_save_and_reload(make_env, note_rnn, tmp_path):
    population = [_tuner(make_env, note_rnn, a, s, **kw) for a, s, kw in MEMBERS[:2]]
    Population(population).learn(300)
    for k, member in enumerate(population):
        loaded = RLTuner.load(member.save(tmp_path / f"m{k}"), env=make_env(member.algorithm, num_envs=6))
        assert torch.equal(loaded.networks.theta, member.networks.theta)
        assert loaded.c == member.c


def test_population_refuses_what_cannot_run_in_lock_step(make_env, note_rnn):
    a = _tuner(make_env, note_rnn, "q", 0)
    with pytest.raises(ValueError, match="batch_size"):
        Population([a, RLTuner("q", make_env("q", num_envs=6), prior=note_rnn, batch_size=16)])
    with pytest.raises(ValueError, match="as many rows"):
        Population([a, RLTuner("q", make_env("q", num_envs=3), prior=note_rnn, batch_size=8, buffer_size=500)])
    with pytest.raises(ValueError, match="distinct"):
        Population([a, a])
    with pytest.raises(ValueError, match="one per member"):
        Population([a, _tuner(make_env, note_rnn, "q", 1)]).learn(10, callback=lambda *_: True)
