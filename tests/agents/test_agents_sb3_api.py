"""SB3's own callbacks, evaluate_policy, save/load/resume and the NaN stop, unmodified, on RLTuner."""

import zipfile

import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnMaxEpisodes,
)
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnvWrapper

from agents import NaNLossError, RLTuner
from melody_env.sb3_vec_env import MelodySB3VecEnv
from sequence_env.checkpoint import CheckpointError
from sequence_env.envs.sb3_vec_env import SequenceSB3VecEnv


class Recorder(BaseCallback):
    """A user's callback reading what SB3's off-policy loop exposes."""

    def __init__(self):
        super().__init__()
        self.events, self.dones, self.infos_ok = [], 0, True

    def _on_training_start(self):
        self.events.append("start")

    def _on_rollout_start(self):
        self.events.append("rollout_start")

    def _on_step(self):
        self.dones += int(np.sum(self.locals["dones"]))
        self.infos_ok &= len(self.locals["infos"]) == self.training_env.num_envs
        self.infos_ok &= self.locals["new_obs"]["note"].shape == (self.training_env.num_envs,)
        self.logger.record("custom/num_timesteps", self.num_timesteps)
        return True

    def _on_training_end(self):
        self.events.append("end")


def test_sb3_callbacks_run_unmodified(make_env, note_rnn, tmp_path):
    agent = RLTuner("q", make_env(num_envs=4), prior=note_rnn, seed=0)
    assert isinstance(agent.get_env(), SequenceSB3VecEnv) and agent.get_vec_normalize_env() is None
    recorder = Recorder()
    checkpoints = CheckpointCallback(save_freq=8, save_path=str(tmp_path / "ckpt"), name_prefix="tuner")
    evaluation = EvalCallback(
        MelodySB3VecEnv(make_env(num_envs=2)),
        eval_freq=8,
        n_eval_episodes=2,
        warn=False,
        best_model_save_path=str(tmp_path / "best"),
        log_path=str(tmp_path / "eval"),
    )
    agent.learn(128, callback=CallbackList([recorder, checkpoints, evaluation]), progress_bar=True)
    assert recorder.events[0] == "start" and recorder.events[-1] == "end" and "rollout_start" in recorder.events
    assert recorder.dones == 128 // 8 and recorder.infos_ok  # 4 melodies of 8 notes, 4 times
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "tuner_128_steps.zip",
        "tuner_32_steps.zip",
        "tuner_64_steps.zip",
        "tuner_96_steps.zip",
    ]
    assert RLTuner.load(tmp_path / "ckpt" / "tuner_64_steps.zip").num_timesteps == 64
    assert (tmp_path / "best" / "best_model.zip").is_file()
    assert np.load(tmp_path / "eval" / "evaluations.npz")["results"].shape == (4, 2)


def test_stop_on_max_episodes(make_env, note_rnn):
    agent = RLTuner("psi", make_env("psi", num_envs=3), prior=note_rnn, seed=0)
    agent.learn(10_000, callback=StopTrainingOnMaxEpisodes(max_episodes=2))
    assert agent.num_timesteps == 2 * 8 * 3  # two 8-note melodies in each of the 3 rows


def test_evaluate_policy_with_recurrent_state(make_env, note_rnn):
    agent = RLTuner("g", make_env("g"), prior=note_rnn, seed=0, n_envs=1)
    rewards, lengths = evaluate_policy(
        agent, MelodySB3VecEnv(make_env("g", num_envs=2)), n_eval_episodes=4, return_episode_rewards=True, warn=False
    )
    assert lengths == [8, 8, 8, 8] and all(np.isfinite(rewards))
    obs, _ = make_env("g").reset(seed=0)
    action, state = agent.predict(obs, deterministic=True)  # a single env's observation
    assert action.shape == () and state[0].shape == (1, 16)


def test_save_load_round_trip_and_resume(make_env, note_rnn, tmp_path):
    agent = RLTuner("g", make_env("g", num_envs=2), prior=note_rnn, seed=0, exploration_steps=400)
    agent.learn(96)
    path = agent.save(tmp_path / "agent")
    assert path.name == "agent.zip"
    with zipfile.ZipFile(path) as archive:  # JSON + safetensors, no pickle
        assert sorted(archive.namelist()) == ["data.json", "tensors.safetensors"]
    loaded = RLTuner.load(tmp_path / "agent")
    for key, value in agent.networks.state_dict().items():
        assert torch.equal(value, loaded.networks.state_dict()[key]), key
    assert np.array_equal(agent.generate(3, seed=5), loaded.generate(3, seed=5))
    obs = make_env("g", num_envs=2).reset(seed=1)[0]
    a1, s1 = agent.predict(obs, deterministic=True)
    a2, s2 = loaded.predict(obs, deterministic=True)
    assert np.array_equal(a1, a2) and np.allclose(s1[0], s2[0])
    # resuming continues the counters and the ε schedule: 96 + 64 steps of a 400-step ramp
    resumed = RLTuner.load(path, env=make_env("g", num_envs=2))
    resumed.learn(64, reset_num_timesteps=False)
    assert resumed.num_timesteps == 160
    assert resumed.exploration_rate == pytest.approx(1.0 - 0.9 * 160 / 400)
    # the replay is not saved: training resumes at the vector step that refills one batch (16th of 32),
    # then 2 env steps / 5 = 0.4 gradient steps per vector step, with the saved fraction carried over
    assert resumed._n_updates == agent._n_updates + round(agent._grad_credit + 0.4 * (32 - 16 + 1))
    with pytest.raises(CheckpointError, match="does not exist"):
        RLTuner.load(tmp_path / "missing.zip")


class NaNAfter(VecEnvWrapper):
    """Rewards, and the log p(a|s) the tuners take their reward from, turn NaN after ``steps`` vector steps."""

    def __init__(self, venv, steps):
        super().__init__(venv)
        self.steps, self.count = steps, 0

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.count += 1
        if self.count <= self.steps:
            return obs, rewards, dones, infos
        for info in infos:
            info["log_prior"] = float("nan")
        return obs, rewards * np.nan, dones, infos


def test_nan_loss_stops_and_keeps_the_last_good_state(make_env, note_rnn, tmp_path):
    venv = NaNAfter(MelodySB3VecEnv(make_env(num_envs=4)), steps=20)
    rescue = tmp_path / "last_good.zip"
    agent = RLTuner("q", venv, prior=note_rnn, seed=0, nan_checkpoint_path=rescue)
    ckpt = CheckpointCallback(save_freq=5, save_path=str(tmp_path / "ckpt"))
    with pytest.raises(NaNLossError, match="non-finite loss"):
        agent.learn(10_000, callback=ckpt)
    assert agent.num_timesteps < 200
    for agent_like in (agent, RLTuner.load(rescue)):
        assert all(torch.isfinite(p).all() for p in agent_like.networks.parameters())
        assert agent_like.num_timesteps >= 80
    kept = RLTuner.load(tmp_path / "ckpt" / "rl_model_80_steps.zip")  # written before the NaN, untouched
    assert all(torch.isfinite(p).all() for p in kept.networks.parameters())
