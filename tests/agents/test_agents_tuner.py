"""RLTuner end to end on tiny budgets: terminal flags, frozen Reward RNN, logging, seeding, generation."""

import csv

import numpy as np
import pytest
import torch
from stable_baselines3.common.logger import configure

from agents import ALGORITHMS, RLTuner


def test_last_note_is_stored_terminal(make_env, note_rnn):
    agent = RLTuner("q", make_env(melody_length=8), prior=note_rnn, seed=0, n_envs=1)
    agent.learn(24)
    done = agent.replay_buffer.done[:24].numpy()
    assert np.flatnonzero(done).tolist() == [7, 15, 23]  # the 8th note of each melody, and only it
    # the first transition of each melody starts from the zero LSTM state, later ones do not
    h = agent.replay_buffer.state[0][:24]
    assert torch.all(h[[0, 8, 16]] == 0) and torch.all(h[[1, 9, 17]].abs().sum(1) > 0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_trains_and_leaves_the_reward_rnn_alone(algorithm, make_env, note_rnn):
    env = make_env(algorithm)
    env_rnn = env.unwrapped.reward_rnn
    before_env = {k: v.clone() for k, v in env_rnn.state_dict().items()}
    agent = RLTuner(algorithm, env, prior=note_rnn, seed=0, learning_starts=0, learning_rate=1e-2, n_envs=1)
    nets = agent.networks
    before_prior = {k: v.clone() for k, v in nets.reward_rnn.state_dict().items()}
    before_q = {k: v.clone() for k, v in nets.q_net.state_dict().items()}
    agent.learn(200)
    assert agent._n_updates == pytest.approx(200 / 5, abs=7)  # one gradient step per 5 env steps
    assert not any(p.requires_grad for p in nets.reward_rnn.parameters())
    for key, value in nets.reward_rnn.state_dict().items():
        assert torch.equal(value, before_prior[key]), key  # G must not move the Reward RNN (docs/spec.md §6)
    for key, value in env_rnn.state_dict().items():
        assert torch.equal(value, before_env[key]), key
    assert any(not torch.equal(v, before_q[k]) for k, v in nets.q_net.state_dict().items())


def test_target_network_is_soft_updated(make_env, note_rnn):
    agent = RLTuner("psi", make_env("psi"), prior=note_rnn, seed=0, tau=0.01, n_envs=1)
    agent.learn(40)
    q = dict(agent.networks.q_net.named_parameters())
    for name, target in agent.networks.target_net.named_parameters():
        init = dict(note_rnn.named_parameters())[name]
        moved, online = (target - init).abs().max(), (q[name] - init).abs().max()
        assert 0 < moved < online  # η = 0.01 lags far behind the online network


def test_logger_records_the_collapse_signals(make_env, note_rnn, tmp_path):
    agent = RLTuner("q", make_env(), prior=note_rnn, seed=0, n_envs=1)
    agent.set_logger(configure(str(tmp_path), ["csv"]))
    agent.learn(64, log_interval=1)
    with open(tmp_path / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    keys = set(rows[-1])
    for key in (
        "train/loss",
        "train/q_mean",
        "rollout/exploration_rate",
        "rollout/ep_rew_mean",
        "reward/log_prior",
        "reward/music_theory",
        "reward/key",
        "reward/unique_extremes",
        "policy/kl_to_prior",
        "policy/entropy",
    ):
        assert key in keys, key
    assert float(rows[0]["rollout/exploration_rate"]) == pytest.approx(1.0 - 0.9 * 8 / 32)  # ramp: half of 64
    assert float(rows[-1]["rollout/exploration_rate"]) == pytest.approx(0.1)
    assert 0 < float(rows[-1]["policy/entropy"]) <= np.log(38) + 1e-6


def test_same_seed_same_training_and_melodies(make_env, note_rnn):
    def run():
        agent = RLTuner("g", make_env("g"), prior=note_rnn, seed=3, n_envs=1)
        agent.learn(80)
        return agent.networks.q_net.state_dict(), agent.generate(4, seed=1)

    (params_a, melodies_a), (params_b, melodies_b) = run(), run()
    assert all(torch.equal(params_a[k], params_b[k]) for k in params_a)
    assert np.array_equal(melodies_a, melodies_b)


def test_generate_and_next_note_probabilities(make_env, note_rnn):
    agent = RLTuner("g", make_env("g", melody_length=12), prior=note_rnn, seed=0)
    melodies = agent.generate(5, temperature=1.0, seed=0)
    assert melodies.shape == (5, 12) and melodies.dtype == np.int64 and melodies.min() >= 0 and melodies.max() < 38
    greedy = agent.generate(3, temperature="greedy", primer=np.array([14, 14, 14]))
    assert (greedy == greedy[0]).all()  # same primer, argmax policy → same melody
    assert np.array_equal(agent.generate(3, temperature=0, primer=np.array([14, 14, 14])), greedy)
    probs = agent.next_note_probabilities(melodies[0], primer=14)
    assert probs.shape == (12, 38) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    # untrained, G is the Note RNN's logits, so the first row is softmax(logits + log p) (Eq. 14)
    logits, _ = note_rnn.step(torch.tensor([14]))
    expected = torch.softmax(logits + torch.log_softmax(logits, -1), -1)
    assert np.allclose(probs[0], expected[0].detach().numpy(), atol=1e-5)


def test_bad_arguments_are_refused(make_env, note_rnn):
    with pytest.raises(ValueError, match="algorithm must be one of"):
        RLTuner("dqn", make_env(), prior=note_rnn)
    with pytest.raises(ValueError, match="batch_size"):
        RLTuner("q", make_env(), prior=note_rnn, batch_size=0)
    with pytest.raises(ValueError, match="no env"):
        RLTuner("q", None, prior=note_rnn).learn(10)
