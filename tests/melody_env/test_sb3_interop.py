"""Stable-Baselines3 on MelodyCompose-v0: check_env, the VecEnv adapter, DQN / PPO / RecurrentPPO smoke runs."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from melody_env.note_rnn import NoteRNN, NoteRNNConfig
from melody_env.sb3_vec_env import MelodySB3VecEnv

LENGTH = 8
STEPS = 2_000


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets: threads only add overhead
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def rnn():
    torch.manual_seed(0)
    return NoteRNN(NoteRNNConfig(hidden_size=16)).eval()


def test_sb3_check_env(rnn):
    env = gym.make("MelodyCompose-v0", checkpoint=rnn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning is recorded, none ignored
        check_env(env)
    assert [str(w.message) for w in caught] == []


def test_adapter_matches_dummy_vec_env(rnn):
    """Same seeds and actions: the adapter gives DummyVecEnv's numbers, SB3 autoreset included."""
    kwargs = {"checkpoint": rnn, "melody_length": LENGTH}
    ours = MelodySB3VecEnv(num_envs=3, **kwargs)
    dummy = DummyVecEnv([lambda: gym.make("MelodyCompose-v0", **kwargs) for _ in range(3)])
    ours.seed(4), dummy.seed(4)
    obs_a, obs_b = ours.reset(), dummy.reset()
    actions = np.random.default_rng(0).integers(0, 38, (2 * LENGTH + 3, 3))
    for t, act in enumerate(actions):
        np.testing.assert_array_equal(obs_a["note"], obs_b["note"])
        np.testing.assert_allclose(obs_a["h"], obs_b["h"], atol=1e-6)
        (obs_a, rew_a, done_a, info_a), (obs_b, rew_b, done_b, info_b) = ours.step(act), dummy.step(act)
        np.testing.assert_allclose(rew_a, rew_b, atol=1e-5)
        np.testing.assert_array_equal(done_a, done_b)
        assert done_a.all() == (t % LENGTH == LENGTH - 1)
        for a, b in zip(info_a, info_b, strict=True):
            assert set(a) == set(b)
            assert a["log_prior"] == pytest.approx(b["log_prior"], abs=1e-5)
            if "terminal_observation" in b:
                assert a["terminal_observation"]["position"] == b["terminal_observation"]["position"] == LENGTH
                assert a["TimeLimit.truncated"] is False
    assert ours.get_attr("render_mode") == [None] * 3 and ours.env_is_wrapped(gym.Wrapper) == [False] * 3


def test_adapter_wraps_make_vec(rnn):
    venv = gym.make_vec("MelodyCompose-v0", num_envs=2, checkpoint=rnn)
    env = MelodySB3VecEnv(venv)
    assert env.num_envs == 2 and env.observation_space == venv.single_observation_space
    with pytest.raises(ValueError, match="not both"):
        MelodySB3VecEnv(venv, c=1.0)
    with pytest.raises(TypeError, match="MelodyComposeVectorEnv"):
        MelodySB3VecEnv(gym.make_vec("CartPole-v1", num_envs=2))


def algorithms():
    tiny = {"net_arch": [16]}
    return {
        "dqn": lambda env: DQN("MultiInputPolicy", env, learning_starts=200, buffer_size=5_000, policy_kwargs=tiny),
        "ppo": lambda env: PPO("MultiInputPolicy", env, n_steps=256 // env.num_envs, batch_size=64, n_epochs=2,
                               policy_kwargs=tiny),
        "recurrent_ppo": lambda env: RecurrentPPO(
            "MultiInputLstmPolicy", env, n_steps=256 // env.num_envs, batch_size=64, n_epochs=1,
            policy_kwargs={**tiny, "lstm_hidden_size": 8},
        ),
    }  # fmt: skip


@pytest.mark.parametrize("algo", ["dqn", "ppo", "recurrent_ppo"])
@pytest.mark.parametrize("vectorized", [False, True], ids=["single", "adapter"])
def test_sb3_trains(rnn, algo, vectorized):
    kwargs = {"checkpoint": rnn, "melody_length": LENGTH}
    if vectorized:
        env = VecMonitor(MelodySB3VecEnv(num_envs=8, **kwargs))
    else:
        env = VecMonitor(DummyVecEnv([lambda: gym.make("MelodyCompose-v0", **kwargs)]))
    model = algorithms()[algo](env)
    model.set_random_seed(0)
    model.learn(STEPS)
    returns = [episode["r"] for episode in model.ep_info_buffer]
    assert len(returns) >= 20 and np.isfinite(returns).all()
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (env.num_envs,) and ((action >= 0) & (action < 38)).all()


def test_info_rows_drop_the_masked_entries():
    """Gymnasium's dict of arrays as SB3's rows: a ``_key`` mask False leaves the key out of that row only."""
    from sequence_env.envs.sb3_vec_env import _rows

    info = {
        "log_prior": np.array([-1.0, -2.0, -3.0]),
        "_log_prior": np.array([True, False, True]),
        "prior_log_probs": np.arange(6.0).reshape(3, 2),
        "_prior_log_probs": np.ones(3, dtype=bool),
    }
    rows = _rows(info, 3)
    both = ["log_prior", "prior_log_probs"]
    assert [sorted(row) for row in rows] == [both, ["prior_log_probs"], both]
    assert rows[2]["log_prior"] == -3.0 and list(rows[1]["prior_log_probs"]) == [2.0, 3.0]
    assert _rows({}, 2) == [{}, {}]
