"""Tiny Note RNNs and melody envs shared by the agent tests."""

import gymnasium as gym
import pytest
import torch

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from agents.step.targets import REWARD_MODE
from melody_env.note_rnn import NoteRNN, NoteRNNConfig


@pytest.fixture
def note_rnn():
    """A random Note RNN with 16 cells (fast)."""
    torch.manual_seed(0)
    return NoteRNN(NoteRNNConfig(hidden_size=16)).eval()


@pytest.fixture
def make_env(note_rnn):
    """Factory of MelodyCompose-v0 envs with the tiny Reward RNN (single env when ``num_envs`` is None)."""

    def make(algorithm="q", num_envs=None, melody_length=8):
        kwargs = {"checkpoint": note_rnn, "reward_mode": REWARD_MODE[algorithm], "melody_length": melody_length}
        if num_envs is None:
            return gym.make("MelodyCompose-v0", **kwargs)
        return gym.make_vec("MelodyCompose-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)

    return make
