"""The core is generic: a toy task written only here (10 tokens, a GRU prior, one reward term) trains every agent.

The prior is a randomly initialised GRU — not the one-layer LSTM the compiled step knows — so the tuners
run torch's autograd step (agents/step/autograd.py) and the prior's own ``step``. Each algorithm is
trained through the public API and must raise the reward term: the share of token 3 in what it writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import sequence_env  # noqa: F401 - registers SequenceTune-v0
from agents import KLPPO, RLTuner
from agents.step.autograd import PriorStep, autograd_gradient_step
from agents.step.stacked import Layout, flatten
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from sequence_env.lstm import LSTMConfig, LSTMPrior
from sequence_env.task import SequenceTask
from sequence_env.terms import RewardTerm, RewardTerms
from sequence_env.vocabulary import Vocabulary

TARGET = 3
VOCABULARY = Vocabulary(tuple(f"t{i}" for i in range(10)), begin=0)


@dataclass(frozen=True)
class GRUConfig:
    vocab_size: int = 10
    hidden_size: int = 12


class GRUPrior(nn.Module):
    """A next-token GRU with the prior protocol (sequence_env.prior), defined only in this test."""

    state_names = ("h",)

    def __init__(self, config: GRUConfig) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = config.vocab_size
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.cell = nn.GRUCell(config.hidden_size, config.hidden_size)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor]:
        return (torch.zeros(batch_size, self.config.hidden_size),)

    def step(self, tokens, state=None):
        (h,) = self.initial_state(tokens.shape[0]) if state is None else state
        h = self.cell(self.embed(tokens), h)
        return self.head(h), (h,)

    def output(self, state):
        return self.head(state[0] if isinstance(state, tuple) else state)

    def log_prob(self, sequences, state=None):
        out = []
        for t in range(sequences.shape[1] - 1):
            logits, state = self.step(sequences[:, t], state)
            out.append(torch.log_softmax(logits, -1).gather(1, sequences[:, t + 1, None])[:, 0])
        return torch.stack(out, 1)

    def save(self, path, metadata=None):
        raise NotImplementedError("not needed here")

    def config_dict(self):
        return asdict(self.config)

    @classmethod
    def from_config(cls, config):
        return cls(GRUConfig(**config))


def target_share(sequences: np.ndarray, positions: np.ndarray, context: object) -> np.ndarray:
    """The reward term: 1 for writing the target token."""
    return (sequences[np.arange(len(positions)), positions] == TARGET).astype(np.float64)


def toy_task(prior: nn.Module) -> SequenceTask:
    return SequenceTask(
        name="toy",
        vocabulary=VOCABULARY,
        prior=prior,
        terms=RewardTerms([RewardTerm("target", target_share)]),
        max_length=8,
        c=0.1,
    )


@pytest.fixture
def gru() -> GRUPrior:
    torch.manual_seed(0)
    return GRUPrior(GRUConfig()).eval()


def _share(agent, n: int = 400) -> float:
    return float((agent.generate(n, seed=1) == TARGET).mean())


def test_the_toy_env_is_a_gymnasium_env(gru):
    from gymnasium.utils.env_checker import check_env

    env = gym.make("SequenceTune-v0", task=toy_task(gru))
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"token", "h", "position"} and obs["h"].shape == (12,)
    _, _, _, _, info = env.step(TARGET)
    assert info["terms/target"] == info["reward_terms"] == 1.0
    envs = gym.make_vec("SequenceTune-v0", num_envs=3, task=toy_task(gru))
    assert envs.single_action_space == gym.spaces.Discrete(10)


@pytest.mark.parametrize("algorithm", ["q", "psi", "g"])
def test_each_value_tuner_raises_the_term(algorithm, gru):
    tuner = RLTuner(algorithm, "SequenceTune-v0", n_envs=16, seed=0, env_kwargs={"task": toy_task(gru)})
    assert not tuner.networks.fast_lstm and not tuner.networks.compiled  # the autograd step
    before = _share(tuner)
    tuner.learn(6_000)
    after = _share(tuner)
    assert after > before + 0.15, (before, after)


@pytest.mark.parametrize("algorithm", ["ppo", "rloo"])
def test_each_policy_gradient_agent_raises_the_term(algorithm, gru):
    agent = KLPPO(env="SequenceTune-v0", algorithm=algorithm, n_envs=16, seed=0, learning_rate=3e-3,
                  env_kwargs={"task": toy_task(gru)})  # fmt: skip
    before = _share(agent)
    agent.learn(8_000)
    after = _share(agent)
    assert after > before + 0.15, (before, after)


def test_a_two_layer_lstm_prior_trains_through_the_generic_path():
    torch.manual_seed(0)
    prior = LSTMPrior(LSTMConfig(vocab_size=10, hidden_size=8, num_layers=2)).eval()
    tuner = RLTuner("q", "SequenceTune-v0", n_envs=16, seed=0, env_kwargs={"task": toy_task(prior)})
    assert not tuner.networks.fast_lstm
    before = _share(tuner)
    tuner.learn(6_000)
    assert _share(tuner) > before + 0.15
    path = tuner.save(f"{torch.randint(10**9, ()).item()}_q2.zip")
    try:
        loaded = RLTuner.load(path)  # the prior's class and shape are rebuilt by name, no pickle
        assert isinstance(loaded.networks.q_net, LSTMPrior) and loaded.networks.q_net.num_layers == 2
        assert torch.equal(flatten(loaded.networks.q_net), flatten(tuner.networks.q_net))
    finally:
        path.unlink()


@pytest.mark.parametrize("algorithm", ["q", "psi", "g", "rl_only"])
def test_the_autograd_step_gives_the_hand_written_steps_numbers(algorithm):
    """On the one-layer LSTM both steps exist: autograd and the hand-written backward agree to float rounding."""
    torch.manual_seed(4)
    nets = [LSTMPrior(LSTMConfig(vocab_size=10, hidden_size=6)) for _ in range(4)]
    layout = Layout.of(nets[0])
    g = torch.Generator().manual_seed(0)
    k, b = 2, 20
    batch = (
        torch.randint(10, (k, b), generator=g),
        torch.randn(k, b, 6, generator=g) * 0.5,
        torch.randn(k, b, 6, generator=g),
        torch.randint(10, (k, b), generator=g),
        -torch.rand(k, b, generator=g) * 3,
        torch.randn(k, b, generator=g),
        torch.rand(k, b, generator=g) < 0.3,
        torch.log_softmax(torch.randn(k, b, 10, generator=g), -1),
    )
    settings = StepSettings(algorithms=(algorithm, algorithm), c=torch.tensor([[0.5], [2.0]]))
    stats = []
    stacks = []
    for step in ("hand", "autograd"):
        theta = torch.stack([flatten(n) for n in nets[:k]])
        target = torch.stack([flatten(n) for n in nets[k:]])
        stack = Stack(theta, target, AdamState.zeros(k, layout.size), layout)
        if step == "hand":
            stats.append(gradient_step(stack, settings, batch))
        else:
            stats.append(autograd_gradient_step(stack, settings, batch, PriorStep(nets[0])))
        stacks.append(stack)
    torch.testing.assert_close(stats[1], stats[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stacks[1].grad, stacks[0].grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(stacks[1].theta, stacks[0].theta, rtol=1e-5, atol=1e-6)
