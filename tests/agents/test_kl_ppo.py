"""KLPPO end to end on tiny budgets: SB3 callbacks, save/load, seeding, logging, the NaN stop, c="auto", RLOO."""

import csv
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from agents import KLPPO, NaNLossError
from agents.saving import save_agent
from melody_env.sb3_vec_env import MelodySB3VecEnv
from reward_rules import RuleEvaluator
from sequence_env.checkpoint import CheckpointError


def tiny(make_env, num_envs=4, **kwargs):
    """KLPPO on 4 rows of 8-note melodies, one melody per row per rollout, minibatches of 2 melodies."""
    return KLPPO("NoteRNNPolicy", make_env(num_envs=num_envs), seed=0, n_steps=8, batch_size=2, **kwargs)


def progress(path):
    with open(path / "progress.csv") as f:
        return list(csv.DictReader(f))


def test_trains_from_gym_make_with_checkpoint_and_eval_callbacks(make_env, note_rnn, tmp_path):
    agent = KLPPO(env=make_env(), seed=0, n_envs=4, n_steps=8, batch_size=2)  # gym.make: 4 melodies at once
    env_rnn = agent.get_env().venv.reward_rnn
    before_env = {k: v.clone() for k, v in env_rnn.state_dict().items()}
    before_actor = {k: v.clone() for k, v in agent.policy.actor.state_dict().items()}
    checkpoints = CheckpointCallback(save_freq=8, save_path=str(tmp_path / "ckpt"), name_prefix="kl")
    evaluation = EvalCallback(
        MelodySB3VecEnv(make_env(num_envs=2)),
        eval_freq=8,
        n_eval_episodes=2,
        warn=False,
        best_model_save_path=str(tmp_path / "best"),
        log_path=str(tmp_path / "eval"),
    )
    agent.learn(128, callback=[checkpoints, evaluation], progress_bar=True)
    assert agent.num_timesteps == 128
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "kl_128_steps.zip",
        "kl_32_steps.zip",
        "kl_64_steps.zip",
        "kl_96_steps.zip",
    ]
    assert KLPPO.load(tmp_path / "ckpt" / "kl_64_steps.zip").num_timesteps == 64
    assert (tmp_path / "best" / "best_model.zip").is_file()
    assert np.load(tmp_path / "eval" / "evaluations.npz")["results"].shape == (4, 2)
    assert any(not torch.equal(v, before_actor[k]) for k, v in agent.policy.actor.state_dict().items())
    for key, value in env_rnn.state_dict().items():  # the env's Reward RNN (the prior) never moves
        assert torch.equal(value, before_env[key]), key
    assert not any(p.requires_grad for p in agent.policy.prior.parameters())


def test_first_rollout_rewards_are_rules_over_c_and_sb3_keys_are_logged(make_env, tmp_path):
    agent = tiny(make_env, c=0.25)
    agent.set_logger(configure(str(tmp_path), ["csv"]))
    agent.learn(64)  # two rollouts of 4 melodies
    rows = progress(tmp_path)
    first = rows[0]
    for key in (
        "train/c",
        "train/kl",
        "train/policy_gradient_loss",
        "train/value_loss",
        "train/approx_kl",
        "train/clip_fraction",
        "train/entropy_loss",
        "train/explained_variance",
        "rollout/ep_rew_mean",
        "reward/music_theory",
        "reward/log_prior",
        "policy/kl_to_prior",
    ):
        assert first[key] != "", key
    # before any update π = p: KL 0, and a melody's return is Σ rMT / c = 8 notes · mean rMT / 0.25
    assert abs(float(first["train/kl"])) < 1e-5 and float(first["train/c"]) == 0.25
    assert float(first["rollout/ep_rew_mean"]) == pytest.approx(8 * float(first["reward/music_theory"]) / 0.25, 1e-4)


def test_c_is_the_envs_unless_given(note_rnn):
    env = gym.make("MelodyCompose-v0", checkpoint=note_rnn, melody_length=8, c=0.25)
    assert KLPPO(env=env, n_envs=2).c == 0.25
    assert KLPPO(env=env, n_envs=2, c=1.0).c == 1.0
    assert KLPPO(env=env, n_envs=2, c="auto", target_kl=0.1, c_init=2.0).c == 2.0


def test_predict_carries_the_lstm_state_and_evaluate_policy_runs(make_env):
    agent = tiny(make_env)
    rewards, lengths = evaluate_policy(
        agent, MelodySB3VecEnv(make_env(num_envs=2)), n_eval_episodes=4, return_episode_rewards=True, warn=False
    )
    assert lengths == [8, 8, 8, 8] and all(np.isfinite(rewards))
    obs, _ = make_env().reset(seed=0)
    action, state = agent.predict(obs, deterministic=True)  # a single env's observation
    assert action.shape == () and state[0].shape == (1, 16)
    assert agent.observation_space == agent.get_env().observation_space and agent.action_space.n == 38


def test_save_load_round_trip_and_resume(make_env, tmp_path):
    agent = tiny(make_env, c="auto", target_kl=0.05, c_horizon=100)
    agent.learn(96)
    path = agent.save(tmp_path / "agent")
    assert path.name == "agent.zip"
    with zipfile.ZipFile(path) as archive:  # JSON + safetensors, no pickle
        assert sorted(archive.namelist()) == ["data.json", "tensors.safetensors"]
    loaded = KLPPO.load(tmp_path / "agent")
    for key, value in agent.policy.state_dict().items():
        assert torch.equal(value, loaded.policy.state_dict()[key]), key
    assert loaded.c == agent.c != 0.5  # the controller moved c and its state came back
    assert np.array_equal(agent.generate(3, seed=5), loaded.generate(3, seed=5))
    obs = make_env(num_envs=2).reset(seed=1)[0]
    a1, s1 = agent.predict(obs, deterministic=True)
    a2, s2 = loaded.predict(obs, deterministic=True)
    assert np.array_equal(a1, a2) and np.allclose(s1[0], s2[0])
    other = KLPPO(env=make_env(num_envs=4), seed=1, n_steps=8, batch_size=2)
    other.set_parameters(agent.get_parameters())
    assert np.array_equal(other.generate(3, seed=5), agent.generate(3, seed=5))
    resumed = KLPPO.load(path, env=make_env(num_envs=4))
    resumed.learn(64, reset_num_timesteps=False)
    assert resumed.num_timesteps == 160 and resumed._n_updates == agent._n_updates + 2 * 4
    assert KLPPO.load(path, c=0.3).c == 0.3  # a new c is taken, not the saved one
    with pytest.raises(CheckpointError, match="does not exist"):
        KLPPO.load(tmp_path / "missing.zip")
    save_agent(tmp_path / "tuner.zip", {"rng": torch.zeros(1)}, {"algorithm": "q"})  # an RLTuner-style file
    with pytest.raises(CheckpointError, match=r"not a KLPPO one; load it with agents\.RLTuner\.load"):
        KLPPO.load(tmp_path / "tuner.zip")


@pytest.mark.parametrize("algorithm", ["ppo", "rloo"])
def test_same_seed_same_run(make_env, algorithm):
    def run(seed):
        agent = KLPPO(env=make_env(num_envs=4), seed=seed, algorithm=algorithm, rloo_k=2, n_steps=8, batch_size=2)
        agent.learn(64)
        return agent.policy.state_dict(), agent.generate(4, seed=1)

    (params_a, melodies_a), (params_b, melodies_b) = run(0), run(0)
    assert all(torch.equal(params_a[k], params_b[k]) for k in params_a)
    assert np.array_equal(melodies_a, melodies_b)
    params_c, _ = run(7)
    assert any(not torch.equal(params_a[k], params_c[k]) for k in params_a)


class PrimerRecorder(BaseCallback):
    """The primers of every melody, read from the batched env at the melody's first note."""

    def __init__(self):
        super().__init__()
        self.primers = []

    def _on_step(self):
        if self.locals["t"] == 0:
            self.primers.append([p.tolist() for p in self.training_env.venv.core.primers])
        return True


def test_rloo_draws_k_melodies_per_primer_and_trains(make_env, tmp_path):
    agent = KLPPO(env=make_env(num_envs=6), seed=0, algorithm="rloo", rloo_k=3, n_steps=16, batch_size=3)
    agent.set_logger(configure(str(tmp_path), ["csv"]))
    recorder = PrimerRecorder()
    agent.learn(192, callback=recorder)
    assert len(recorder.primers) == 4  # 2 rollouts of 2 melodies per row
    for primers in recorder.primers:
        assert primers[0] == primers[1] == primers[2] and primers[3] == primers[4] == primers[5]
    assert len({str(p[0]) for p in recorder.primers} | {str(p[3]) for p in recorder.primers}) > 1
    row = progress(tmp_path)[-1]
    assert "train/value_loss" not in row and row["train/clip_fraction"] != ""  # no critic in RLOO
    with pytest.raises(ValueError, match="multiple of rloo_k=4"):
        KLPPO(env=make_env(num_envs=6), algorithm="rloo", rloo_k=4)
    with pytest.raises(ValueError, match="side by side in one batched env"):
        KLPPO(env=DummyVecEnv([make_env]), algorithm="rloo", rloo_k=2)


def test_auto_c_keeps_the_kl_near_its_target(make_env, tmp_path):
    # 64 rows of 8-note melodies; at a fixed c = 0.5 this policy's KL per note climbs to about 1.4
    agent = KLPPO(
        env=make_env(num_envs=64),
        seed=0,
        c="auto",
        target_kl=0.3,
        c_horizon=100,
        n_steps=8,
        batch_size=32,
        n_epochs=2,
        learning_rate=3e-3,
    )
    agent.set_logger(configure(str(tmp_path), ["csv"]))
    agent.learn(40_000)
    rows = progress(tmp_path)
    kl = np.array([float(r["train/kl"]) for r in rows])
    c = np.array([float(r["train/c"]) for r in rows])
    assert kl[:5].max() < 0.3 and c[5] < 0.5  # KL below the target at first: c falls
    assert kl.max() > 0.6 and c[-1] > 0.5  # then above it: c rises past its start
    assert np.mean(kl[-len(kl) // 3 :]) == pytest.approx(0.3, rel=0.35)  # and the KL settles near the target


class NaNAfter(VecEnvWrapper):
    """rMT turns NaN in the env's info after ``steps`` vector steps."""

    def __init__(self, venv, steps):
        super().__init__(venv)
        self.steps, self.count = steps, 0

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.count += 1
        if self.count > self.steps:
            for info in infos:
                info["music_theory"] = float("nan")
        return obs, rewards, dones, infos


def test_nan_loss_stops_and_keeps_the_last_good_state(make_env, tmp_path):
    rescue = tmp_path / "last_good.zip"
    agent = KLPPO(env=NaNAfter(MelodySB3VecEnv(make_env(num_envs=4)), steps=20), seed=0, n_steps=8, batch_size=2)
    agent.nan_checkpoint_path = rescue
    with pytest.raises(NaNLossError, match="non-finite loss"):
        agent.learn(10_000)
    assert agent.num_timesteps == 96 and agent._n_updates == 2 * 4  # rollouts 1-2 trained, the 3rd had NaN
    for agent_like in (agent, KLPPO.load(rescue)):
        assert all(torch.isfinite(p).all() for p in agent_like.policy.state_dict().values())


def test_bad_arguments_are_refused(make_env, note_rnn):
    with pytest.raises(ValueError, match="policy must be one of"):
        KLPPO("MlpPolicy", make_env())
    with pytest.raises(ValueError, match="algorithm must be one of"):
        KLPPO(env=make_env(), algorithm="a2c")
    with pytest.raises(ValueError, match="pass target_kl"):
        KLPPO(env=make_env(), c="auto")
    with pytest.raises(ValueError, match="multiple of the episode length 8"):
        KLPPO(env=make_env(num_envs=2), n_steps=12)
    with pytest.raises(ValueError, match="device='cpu'"):
        KLPPO(env=make_env(), device="cuda")
    with pytest.raises(ValueError, match="needs an env or a prior"):
        KLPPO(max_length=8)
    with pytest.raises(ValueError, match="no env"):
        KLPPO(prior=note_rnn, max_length=8).learn(10)
    agent = tiny(make_env)
    with pytest.raises(ValueError, match="12-token episodes"):
        agent.set_env(make_env(num_envs=4, melody_length=12))


def test_a_short_run_on_the_shipped_note_rnn_raises_the_music_theory_reward():
    def mean_music_theory(melodies):
        evaluator = RuleEvaluator(len(melodies), melodies.shape[1])
        return float(np.mean([evaluator.step(melodies[:, t]).sum(1) for t in range(melodies.shape[1])]))

    agent = KLPPO(env="MelodyCompose-v0", seed=0)  # the shipped Note RNN, 64 rows, 2,048 notes per rollout
    before = mean_music_theory(agent.generate(256, seed=0))
    agent.learn(6_144)  # three rollouts
    after = mean_music_theory(agent.generate(256, seed=0))
    assert before < -5 and after > before + 5  # about -10.7 to -0.5 per note
