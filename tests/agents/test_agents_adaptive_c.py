"""RLTuner's c: the env's by default, fixed by a number, moved by c="auto"; compatibility switches."""

import numpy as np
import pytest
import torch
from stable_baselines3.common.logger import configure

from agents import RLTuner
from agents.adaptive_c import AdaptiveC


def test_c_comes_from_the_env_unless_given(make_env, note_rnn):
    env = make_env("q", num_envs=4)
    env.unwrapped.core.c = 2.0
    assert RLTuner("q", env, prior=note_rnn).c == 2.0
    assert RLTuner("q", make_env("q", num_envs=4), prior=note_rnn, c=0.25).c == 0.25
    with pytest.raises(ValueError, match="target_kl"):
        RLTuner("q", make_env("q", num_envs=4), prior=note_rnn, c="auto")


def test_auto_c_keeps_log_p_and_rmt_apart_and_moves_c(make_env, note_rnn, tmp_path):
    """The replay holds the env's log p(a|s) and rMT separately; c moves against the KL error; train/c is logged."""
    tuner = RLTuner("q", make_env("q", num_envs=4), prior=note_rnn, seed=0, c="auto", target_kl=1e-3)
    tuner.set_logger(configure(str(tmp_path), ["csv"]))
    start = tuner.c
    tuner.learn(96)  # 3 melodies of 8 notes on 4 rows
    assert isinstance(tuner.c_controller, AdaptiveC)
    # the Q network starts as the Note RNN, so softmax(Q) = p and KL = 0 < target: less weight on the prior
    assert tuner.c < start
    buffer = tuner.replay_buffer
    log_prior, music_theory = buffer.log_prior[: len(buffer)], buffer.reward_terms[: len(buffer)]
    assert (log_prior <= 0).all() and not torch.equal(log_prior, music_theory)
    # replay the same seeded run on the env directly: the stored parts are the env's info values
    again = RLTuner("q", make_env("q", num_envs=4), prior=note_rnn, seed=0, c="auto", target_kl=1e-3)
    again.learn(96)
    assert torch.equal(again.replay_buffer.reward_terms, buffer.reward_terms)
    tuner.dump_logs()
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/c" in header and "train/kl" in header


def test_auto_c_survives_save_and_load(make_env, note_rnn, tmp_path):
    tuner = RLTuner("g", make_env("g", num_envs=4), prior=note_rnn, seed=1, c="auto", target_kl=0.5)
    tuner.learn(64)
    loaded = RLTuner.load(tuner.save(tmp_path / "g"), env=make_env("g", num_envs=4))
    assert isinstance(loaded.c_controller, AdaptiveC) and loaded.c == pytest.approx(tuner.c)


@pytest.mark.parametrize(("switch", "value"), [("clip", "per_tensor"), ("bootstrap_last_note", True)])
def test_compatibility_switches_change_the_updates_only(make_env, note_rnn, switch, value):
    """Same seed: the same melodies are played until the first update; then only the weights differ."""
    kw = {"max_grad_norm": 0.01} if switch == "clip" else {}
    base = RLTuner("rl_only", make_env("rl_only", num_envs=4), prior=note_rnn, seed=3, batch_size=8, **kw)
    other = RLTuner(
        "rl_only", make_env("rl_only", num_envs=4), prior=note_rnn, seed=3, batch_size=8, **{switch: value}, **kw
    )
    base.learn(32)  # one melody per row: the updates start after the first vector steps
    other.learn(32)
    assert torch.equal(base.replay_buffer.action[:8], other.replay_buffer.action[:8])
    assert not torch.equal(base.networks.theta, other.networks.theta)
    assert np.isfinite(other.networks.theta.numpy()).all()
