from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import molecule_env  # noqa: F401  registers MoleculeCompose-v0


def test_the_env_passes_gymnasiums_checker(tiny_prior_path):
    env = gym.make("MoleculeCompose-v0", checkpoint=tiny_prior_path)
    check_env(env.unwrapped, skip_render_check=True)
    assert set(env.observation_space.spaces) == {"token", "h", "c", "position"}


def test_an_episode_ends_at_the_end_token_with_the_terms_in_info(tiny_prior_path):
    env = gym.make("MoleculeCompose-v0", checkpoint=tiny_prior_path, render_mode="ansi")
    vocabulary = env.unwrapped.task.vocabulary
    obs, info = env.reset(seed=0)
    assert obs["token"] == vocabulary.begin and info["prior_log_probs"].shape == (vocabulary.size,)
    for token in ("C", "C", "O"):
        _, _, terminated, _, info = env.step(vocabulary.tokens.index(token))
        assert not terminated and info["terms/validity"] == 0.0
    _, reward, terminated, _, info = env.step(vocabulary.end)
    assert terminated
    assert info["terms/validity"] == 1.0 and info["terms/qed"] > 0
    assert reward == np.float64(info["log_prior"] + info["reward_terms"] / 0.5)
    assert env.render() == "CCO</s>"


def test_an_episode_without_the_end_token_stops_at_max_length_invalid(tiny_prior_path):
    env = gym.make("MoleculeCompose-v0", checkpoint=tiny_prior_path, max_length=3)
    vocabulary = env.unwrapped.task.vocabulary
    env.reset(seed=0)
    carbon = vocabulary.tokens.index("C")
    ended = [env.step(carbon)[2] for _ in range(3)]
    assert ended == [False, False, True]


def test_the_vector_env_autoresets_rows_independently(tiny_prior_path):
    envs = gym.make_vec("MoleculeCompose-v0", num_envs=3, checkpoint=tiny_prior_path)
    vocabulary = envs.unwrapped.task.vocabulary if hasattr(envs.unwrapped, "task") else envs.task.vocabulary
    envs.reset(seed=0)
    carbon = vocabulary.tokens.index("C")
    _, _, terminated, _, _ = envs.step(np.array([vocabulary.end, carbon, carbon]))
    assert terminated.tolist() == [True, False, False]
    obs, reward, terminated, _, _ = envs.step(np.array([carbon, vocabulary.end, carbon]))
    assert reward[0] == 0.0 and obs["position"][0] == 0  # row 0 restarted
    assert terminated.tolist() == [False, True, False]
