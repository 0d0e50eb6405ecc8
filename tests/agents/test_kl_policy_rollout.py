"""KLPPO's actor-critic (Note RNN actor, detached value head) and its rollouts of whole melodies."""

import numpy as np
import pytest
import torch

from agents.kl.policy import KLActorCritic
from agents.kl.rollout import RolloutStorage, grouped_vector_env, share_primers
from melody_env.sb3_vec_env import MelodySB3VecEnv


def test_actor_starts_as_the_note_rnn_and_evaluate_matches_the_steps(note_rnn):
    policy = KLActorCritic(note_rnn, max_length=5)
    notes = torch.tensor([[3, 14, 1, 0, 20], [37, 2, 2, 1, 9]])
    logits, values = policy.evaluate(notes)  # (2, 5, 38), (2, 5)
    expected, _ = note_rnn(notes)
    assert torch.allclose(logits, expected, atol=1e-6)  # π = p before training: KL 0
    state = None
    for t in range(5):
        step_logits, step_value, state = policy.act(notes[:, t], state, torch.full((2,), t))
        assert torch.allclose(step_logits, logits[:, t], atol=1e-5)
        assert torch.allclose(step_value, values[:, t], atol=1e-5)  # statistics 0 and 1: same units
    assert not any(p.requires_grad for p in policy.prior.parameters())


def test_value_loss_does_not_reach_the_actor(note_rnn):
    policy = KLActorCritic(note_rnn, max_length=4)
    _, values = policy.evaluate(torch.tensor([[5, 6, 7, 8]]))
    values.square().sum().backward()
    assert all(p.grad is None for p in policy.actor.parameters())
    assert all(p.grad is not None for p in policy.critic.parameters())


def test_value_statistics_standardise_targets_and_keep_predictions(note_rnn):
    policy = KLActorCritic(note_rnn, max_length=4)
    notes = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12]])
    policy.update_value_statistics(torch.tensor([-700.0, -600.0, -500.0]))  # first call: statistics only
    assert float(policy.value_mean) == pytest.approx(-600.0) and float(policy.value_std) == pytest.approx(100.0)
    assert policy.standardise(torch.tensor([-500.0])).tolist() == pytest.approx([1.0])
    before = policy.act(notes[:, 0], None, torch.zeros(2, dtype=torch.long))[1]
    policy.update_value_statistics(torch.tensor([10.0, 30.0]))  # later calls rescale the output layer
    after = policy.act(notes[:, 0], None, torch.zeros(2, dtype=torch.long))[1]
    assert float(policy.value_mean) == pytest.approx(20.0)
    assert torch.allclose(before, after, atol=1e-3)  # the same values in reward units


def test_rollout_storage_hands_back_whole_melodies():
    storage = RolloutStorage(n_steps=4, n_envs=2, max_length=2)
    for step in range(4):
        storage.add(step, values=torch.tensor([10.0 * step, 10.0 * step + 1]))
    # melody b * N + row holds steps b * T .. b * T + T - 1 of that row
    assert storage.episodes().values.tolist() == [[0, 10], [1, 11], [20, 30], [21, 31]]
    with pytest.raises(ValueError, match="multiple of the episode length"):
        RolloutStorage(n_steps=3, n_envs=2, max_length=2)


def test_share_primers_gives_each_group_its_leaders_primer(make_env):
    venv = MelodySB3VecEnv(make_env(num_envs=6))
    venv.seed(0)
    venv.reset()
    inner = grouped_vector_env(venv, 3)
    primers_drawn = [p.copy() for p in inner.core.primers]
    obs = share_primers(inner, 3)
    primers = [p.tolist() for p in inner.core.primers]
    assert primers == [primers_drawn[0].tolist()] * 3 + [primers_drawn[3].tolist()] * 3
    assert np.array_equal(obs["note"], [primers[i][-1] for i in range(6)]) and not obs["position"].any()
    assert np.allclose(obs["h"][0], obs["h"][2]) and np.allclose(obs["h"][3], obs["h"][5])
    with pytest.raises(ValueError, match="multiple of rloo_k=4"):
        grouped_vector_env(venv, 4)
