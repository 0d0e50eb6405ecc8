"""RLTuner as SB3 users call it: one env for every algorithm, one env → N melodies, SB3's constructor and API."""

import copy
import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from agents import GTuner, PsiTuner, QTuner, RLOnlyTuner, RLTuner
from agents.vec_env import algorithm_reward, env_attribute, info_columns, reward_parts
from melody_env.batch import MelodyBatch
from melody_env.note_rnn import NoteRNN, NoteRNNConfig
from melody_env.sb3_vec_env import MelodySB3VecEnv
from sequence_env.checkpoint import CheckpointError
from sequence_env.envs.sb3_vec_env import SequenceSB3VecEnv


def step_once(venv, action=14):
    venv.reset()
    return venv.step(np.full(venv.num_envs, action))


# ---------------------------------------------------------------------- 1. one env, every algorithm
def test_each_algorithm_takes_its_reward_from_the_same_env(make_env, note_rnn):
    env = make_env("q")  # reward_mode="full": Eq. 3 as the env's own reward
    tuners = {a: RLTuner(a, env, prior=note_rnn, n_envs=2, seed=0) for a in ("q", "psi", "g", "rl_only")}
    assert all(env_attribute(t.env, "c") == 0.5 for t in tuners.values())
    # hand numbers, c = 0.5: Q and Ψ log p + rMT / c (Eq. 3), G and RL-only rMT / c (docs/spec.md §5)
    infos = [{"log_prior": -3.25, "music_theory": 1.5}, {"log_prior": -0.5, "music_theory": -2.0}]
    log_prior, music_theory = reward_parts(tuners["q"].env, infos)
    assert log_prior.tolist() == [-3.25, -0.5] and music_theory.tolist() == [1.5, -2.0]
    assert algorithm_reward("q", log_prior, music_theory, 0.5).tolist() == [-0.25, -4.5]
    assert algorithm_reward("psi", log_prior, music_theory, 0.5).tolist() == [-0.25, -4.5]
    assert algorithm_reward("g", log_prior, music_theory, 0.5).tolist() == [3.0, -4.0]
    assert algorithm_reward("rl_only", log_prior, music_theory, 0.5).tolist() == [3.0, -4.0]
    # on a real step they agree with the env's own reward in each mode
    for mode, algorithm in (("full", "q"), ("rules", "g")):
        venv = MelodySB3VecEnv(make_env("q" if mode == "full" else "g", num_envs=3))
        _, rewards, _, infos = step_once(venv)
        assert np.allclose(algorithm_reward(algorithm, *reward_parts(venv, infos), 0.5), rewards)


def test_the_fast_path_reads_the_same_numbers_and_sees_wrappers(make_env):
    venv = MelodySB3VecEnv(make_env(num_envs=3))
    _, _, _, infos = step_once(venv)
    fast = reward_parts(venv, infos)
    assert np.shares_memory(fast[0], venv.last_step_info["log_prior"])  # the env's own array
    slow = reward_parts(DummyVecEnv([lambda: make_env()]), infos)  # no arrays: read from the dicts
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    keys = ["rules/key", "rules/tonic"]
    assert np.shares_memory(info_columns(venv, infos, keys)["rules/key"], venv.last_step_info["rules/key"])
    assert info_columns(venv, infos, keys)["rules/tonic"].tolist() == [info["rules/tonic"] for info in infos]
    infos[0]["log_prior"] = float("nan")  # a wrapper that rewrote the info is seen
    assert np.isnan(reward_parts(venv, infos)[0][0])
    with pytest.raises(ValueError, match="'log_prior'"):
        reward_parts(venv, [{"x": 1.0}] * 3)


class Recording(VecEnvWrapper):
    """Keeps every step's infos."""

    def __init__(self, venv):
        super().__init__(venv)
        self.infos = []

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.infos.extend(infos)
        return obs, rewards, dones, infos


def test_g_on_an_eq3_env_trains_on_rules_only(make_env, note_rnn):
    venv = Recording(MelodySB3VecEnv(make_env("q", num_envs=1)))  # the env's own reward is Eq. 3
    agent = RLTuner("g", venv, prior=note_rnn, seed=0)
    agent.learn(8)  # one melody of 8 notes
    music_theory = sum(info["music_theory"] for info in venv.infos)
    assert agent.ep_info_buffer[0]["r"] == pytest.approx(music_theory / 0.5)


# ------------------------------------------------------------------- 2. the env's Reward RNN, only
def test_a_note_rnn_other_than_the_env_reward_rnn_is_refused(make_env, note_rnn, tmp_path):
    torch.manual_seed(1)
    other = NoteRNN(NoteRNNConfig(hidden_size=16))
    with pytest.raises(ValueError, match="differs from the env's Reward RNN"):
        RLTuner("g", make_env("g"), prior=other)
    with pytest.raises(ValueError, match="differs from the env's Reward RNN"):
        RLTuner("q", make_env(), prior=NoteRNN(NoteRNNConfig(hidden_size=8)))
    agent = RLTuner("g", make_env("g"), prior=copy.deepcopy(note_rnn), n_envs=1)  # same weights: fine
    other_env = gym.make("MelodyCompose-v0", checkpoint=other, melody_length=8)
    with pytest.raises(ValueError, match="differs from the env's Reward RNN"):
        agent.set_env(other_env)
    path = agent.save(tmp_path / "g")
    with pytest.raises(ValueError, match="differs from the env's Reward RNN"):
        RLTuner.load(path, env=other_env)


# ----------------------------------------------------------------------- 3. one env → N melodies
def test_a_single_env_becomes_n_envs_melodies_with_its_settings(note_rnn):
    kwargs = {"checkpoint": note_rnn, "c": 0.7, "key": "A minor", "melody_length": 8, "rules": {"key": 2.0}}
    env = gym.make("MelodyCompose-v0", **kwargs)
    agent = RLTuner("q", env, n_envs=4, seed=5)
    venv = agent.get_env()
    assert agent.n_envs == venv.num_envs == 4 and isinstance(venv, SequenceSB3VecEnv)
    for name in inspect.signature(MelodyBatch).parameters:
        if name not in ("num_melodies", "checkpoint"):
            assert env_attribute(venv, name) == getattr(env.unwrapped.core, name), name
    reward_rnn = env_attribute(venv, "reward_rnn").state_dict()
    assert all(torch.equal(value, note_rnn.state_dict()[key]) for key, value in reward_rnn.items())
    # row i composes as the single env seeded 5 + i would
    obs = venv.reset()
    actions = np.array([3, 14, 20, 37])
    _, rewards, _, infos = venv.step(actions)
    for i in range(4):
        single = gym.make("MelodyCompose-v0", **kwargs)
        single_obs, _ = single.reset(seed=5 + i)
        assert single_obs["note"] == obs["note"][i]
        _, reward, _, _, info = single.step(int(actions[i]))
        assert reward == pytest.approx(rewards[i]) and info["music_theory"] == infos[i]["music_theory"]
    assert RLTuner("q", gym.make("MelodyCompose-v0", **kwargs)).n_envs == 64  # the default


def test_n_envs_reports_the_truth_for_every_env_form(make_env, note_rnn):
    assert RLTuner("q", make_env(num_envs=3), prior=note_rnn).n_envs == 3
    assert RLTuner("q", MelodySB3VecEnv(make_env(num_envs=2)), prior=note_rnn).n_envs == 2
    wrapped = gym.wrappers.TransformReward(make_env(), lambda r: 2 * r)  # kept: runs as it is, alone
    agent = RLTuner("q", wrapped, prior=note_rnn)
    assert agent.n_envs == 1 and isinstance(agent.get_env(), DummyVecEnv)
    without_env = RLTuner("q", None, prior=note_rnn, n_envs=8)
    assert without_env.n_envs == 8
    with pytest.raises(ValueError, match="no task"):  # the observation is the task's: it needs an env
        _ = without_env.observation_space
    without_env.set_env(make_env())
    expected = gym.make("MelodyCompose-v0", checkpoint=note_rnn, melody_length=8).observation_space
    assert without_env.observation_space == expected
    for env, n in ((make_env(num_envs=3), 5), (wrapped, 4)):
        with pytest.raises(ValueError, match=f"n_envs={n}, but the env runs"):
            RLTuner("q", env, prior=note_rnn, n_envs=n)
    with pytest.raises(ValueError, match="env_kwargs apply only"):
        RLTuner("q", make_env(), prior=note_rnn, env_kwargs={"c": 1.0})


# -------------------------------------------------------------------------- 4. SB3's conventions
FIXED = [(QTuner, "q"), (PsiTuner, "psi"), (GTuner, "g"), (RLOnlyTuner, "rl_only")]


@pytest.mark.parametrize(("cls", "algorithm"), FIXED)
def test_sb3_constructor_with_the_algorithm_fixed(cls, algorithm, make_env, note_rnn):
    env = make_env(algorithm)
    agent = cls("MultiInputLstmPolicy", env, seed=0, verbose=0, device="auto", tensorboard_log=None, n_envs=2)
    assert agent.algorithm == algorithm and isinstance(agent, RLTuner)
    assert agent.device == torch.device("cpu") and agent.action_space == spaces.Discrete(38)
    assert agent.observation_space == env.observation_space == agent.policy.observation_space
    assert isinstance(agent.policy, torch.nn.Module)
    assert {id(p) for p in agent.networks.q_net.parameters()} <= {id(p) for p in agent.policy.parameters()}
    assert cls(policy="RLTunerPolicy", env=env, n_envs=1).algorithm == algorithm  # rl-zoo3 passes keywords


def test_bad_policy_device_and_kwargs_are_refused(make_env, note_rnn):
    for kwargs, message in (
        ({"policy": "CnnPolicy"}, "policy must be one of"),
        ({"device": "cuda"}, "runs on the CPU"),
        ({"policy_kwargs": {"net_arch": [64]}}, "policy_kwargs"),
        ({"exploration_fraction": 0.5, "exploration_steps": 100}, "not both"),
        ({"exploration_fraction": 1.5}, r"in \[0, 1\]"),
        ({"learning_rate": "fast"}, "learning_rate must be"),
        ({"n_envs": 0}, "n_envs must be"),
    ):
        with pytest.raises(ValueError, match=message):
            RLTuner("q", make_env(), prior=note_rnn, **kwargs)


def test_get_and_set_parameters(make_env, note_rnn, tmp_path):
    trained = RLTuner("psi", make_env("psi"), prior=note_rnn, seed=0, n_envs=2, learning_rate=1e-2)
    trained.learn(64)
    params = trained.get_parameters()
    assert set(params) == {"policy", "policy.optimizer"}
    fresh = RLTuner("psi", make_env("psi"), prior=note_rnn, seed=0, n_envs=2)
    assert not np.array_equal(fresh.generate(4, seed=1), trained.generate(4, seed=1))
    fresh.set_parameters(params)
    assert np.array_equal(fresh.generate(4, seed=1), trained.generate(4, seed=1))
    from_file = RLTuner("psi", make_env("psi"), prior=note_rnn, n_envs=2)
    from_file.set_parameters(trained.save(tmp_path / "psi"))
    assert np.array_equal(from_file.generate(4, seed=1), trained.generate(4, seed=1))
    with pytest.raises(ValueError, match="do not match"):
        fresh.set_parameters({"policy": params["policy"]})
    fresh.set_parameters({"policy": params["policy"]}, exact_match=False)
    with pytest.raises(ValueError, match="unknown parameter names"):
        fresh.set_parameters({"critic": {}}, exact_match=False)


def test_fixed_algorithm_classes_save_and_load(make_env, note_rnn, tmp_path):
    path = GTuner("RLTunerPolicy", make_env("g"), prior=note_rnn, seed=0, n_envs=2).learn(32).save(tmp_path / "g")
    loaded = GTuner.load(path, env=make_env("g"))
    assert type(loaded) is GTuner and loaded.num_timesteps == 32 and loaded.n_envs == 2  # the saved n_envs
    assert type(RLTuner.load(path)) is RLTuner
    with pytest.raises(CheckpointError, match="holds a 'g' tuner"):
        QTuner.load(path)


def test_evaluate_policy_takes_a_single_gym_env(make_env, note_rnn):
    agent = QTuner("RLTunerPolicy", make_env(), n_envs=1, seed=0)
    rewards, lengths = evaluate_policy(agent, make_env(), n_eval_episodes=3, return_episode_rewards=True, warn=False)
    assert lengths == [8, 8, 8] and all(np.isfinite(rewards))


# ----------------------------------------------------------------------- 5. ε over half of learn
@pytest.mark.parametrize("budget", [96, 400])
def test_epsilon_reaches_its_final_value_by_half_of_learn(budget, make_env, note_rnn):
    rates = {}

    def record(local_vars, _globals):
        model = local_vars["self"]
        rates[model.num_timesteps] = model.exploration_rate
        return True

    agent = RLTuner("q", make_env(num_envs=4), prior=note_rnn, seed=0)
    agent.learn(budget, callback=record)
    assert all(rate == pytest.approx(0.1) for step, rate in rates.items() if step >= budget // 2)
    assert all(rate > 0.1 for step, rate in rates.items() if step < budget // 2)
    assert rates[4] == pytest.approx(1.0 - 0.9 * 4 / (budget // 2))


def test_continuing_training_spans_the_ramp_over_the_whole_run(make_env, note_rnn, tmp_path):
    agent = RLTuner("q", make_env(num_envs=4), prior=note_rnn, seed=0)
    agent.learn(40)
    assert agent.exploration_rate == pytest.approx(0.1)
    loaded = RLTuner.load(agent.save(tmp_path / "q"), env=make_env(num_envs=4))
    assert loaded.exploration_rate == pytest.approx(0.1)  # a finished run stays finished
    loaded.learn(40, reset_num_timesteps=False)  # 80 in all: the ramp spans 40, done again
    assert loaded.num_timesteps == 80 and loaded.exploration_rate == pytest.approx(0.1)
    fixed = RLTuner("q", make_env(num_envs=4), prior=note_rnn, seed=0, exploration_steps=400).learn(40)
    assert fixed.exploration_rate == pytest.approx(1.0 - 0.9 * 40 / 400)  # the explicit length holds
    switched = RLTuner.load(fixed.save(tmp_path / "fixed"), exploration_fraction=0.25)  # replaces the saved steps
    assert switched.exploration_steps is None and switched.exploration_fraction == 0.25
