"""The env's torch work runs on its ``torch_threads`` and leaves the caller's setting as it was."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import melody_env.batch
import melody_env.note_rnn
import sequence_env.lstm
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import DEFAULT_CHECKPOINT, NoteRNN
from melody_env.sb3_vec_env import MelodySB3VecEnv
from melody_env.vector import MelodyComposeVectorEnv

CALLER = 3  # the caller's global setting in these tests: neither the env's default (1) nor 2


@pytest.fixture
def seen(monkeypatch):
    """Thread counts in effect at each Reward-RNN matrix product and each Reward RNN build."""
    counts: list[int] = []
    _spy(monkeypatch, torch, "mm", counts)
    _spy(monkeypatch, melody_env.batch, "frozen_reward_rnn", counts)
    torch.set_num_threads(CALLER)  # the suite's fixture restores its own setting afterwards
    return counts


def _spy(monkeypatch, owner, name, counts):
    function = getattr(owner, name)

    def wrapped(*args, **kwargs):
        counts.append(torch.get_num_threads())
        return function(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


def _calls(env_threads):
    """Every kind of env call, each followed by a check that the caller's setting is unchanged."""
    kwargs = {} if env_threads == "default" else {"torch_threads": env_threads}
    yield lambda: MelodyComposeEnv(checkpoint=DEFAULT_CHECKPOINT, melody_length=2, **kwargs)  # loads a checkpoint
    single = gym.make("MelodyCompose-v0", checkpoint=NoteRNN(), melody_length=2, render_mode="ansi", **kwargs)
    yield lambda: single.reset(seed=0)
    yield lambda: single.step(14)
    yield lambda: single.reset(options={"primer": [14]})
    yield single.render
    vector = MelodyComposeVectorEnv(num_envs=3, checkpoint=NoteRNN(), melody_length=2, max_primer_length=2, **kwargs)
    yield lambda: vector.reset(seed=0, options={"primer": [14, 16]})
    for _ in range(3):  # the third step resets every row (NEXT_STEP autoreset)
        yield lambda: vector.step(np.array([14, 16, 18]))
    sb3 = MelodySB3VecEnv(num_envs=2, checkpoint=NoteRNN(), melody_length=1, **kwargs)
    yield sb3.reset
    yield lambda: sb3.step(np.array([14, 16]))  # every row finishes and starts over in this step


@pytest.mark.parametrize(("env_threads", "inside"), [("default", 1), (2, 2), (None, CALLER)])
def test_torch_work_runs_on_the_env_threads_and_the_caller_keeps_its_own(seen, env_threads, inside):
    for call in _calls(env_threads):
        call()
        assert torch.get_num_threads() == CALLER
    assert len(seen) > 10 and set(seen) == {inside}


@pytest.mark.parametrize("env_threads", [2, None])
def test_loading_a_checkpoint_runs_on_one_thread(monkeypatch, env_threads):
    loads: list[int] = []
    _spy(monkeypatch, sequence_env.lstm, "load_state_dict_strict", loads)
    torch.set_num_threads(CALLER)
    NoteRNN.load(DEFAULT_CHECKPOINT)
    melody_env.note_rnn.load_default_note_rnn()
    MelodyComposeEnv(torch_threads=env_threads)  # the shipped checkpoint, whatever the env's threads
    assert loads == [1, 1, 1] and torch.get_num_threads() == CALLER


def test_cell_state_reaches_its_bound_and_stays_in_the_box():
    # Zero weights, gate biases of 20: sigmoid(20) and tanh(20) round to 1.0 in float32, so every
    # note adds exactly 1 to c: after a 3-note primer and 4 notes c = 7 = the bound 3 + 4.
    model = NoteRNN()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.lstm.bias_ih_l0.fill_(20.0)
    env = MelodyComposeEnv(checkpoint=model, primer=[14, 16, 18], melody_length=4)
    space = env.observation_space
    assert space["c"].low.min() == -7.0 and space["c"].high.max() == 7.0
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs["c"], np.full(100, 3.0, np.float32))
    for _ in range(4):
        obs, *_ = env.step(14)
        assert obs in space
    np.testing.assert_array_equal(obs["c"], np.full(100, 7.0, np.float32))


def test_default_box_is_finite_and_a_longer_primer_is_refused():
    env = MelodyComposeEnv(checkpoint=NoteRNN())
    c_space = env.observation_space["c"]
    assert (c_space.low == -33.0).all() and (c_space.high == 33.0).all()  # 1-note primer + 32 notes
    with pytest.raises(ValueError, match="a primer of 2 steps is longer than max_primer_length=1"):
        env.reset(options={"primer": [14, 16]})
    longer = MelodyComposeEnv(checkpoint=NoteRNN(), max_primer_length=8)
    assert longer.observation_space["c"].high.max() == 40.0
    obs, _ = longer.reset(options={"primer": [14, 16]})
    assert obs in longer.observation_space
