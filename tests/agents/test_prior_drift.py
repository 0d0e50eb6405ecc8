"""g_trains_reward_rnn: G's loss moves the output layer of the tuner's Reward RNN copy, and nothing else."""

import math

import pytest
import torch

from agents import RLTuner
from agents.population import Population
from agents.prior_drift import PriorDrift, drifting_log_prior, prior_loss
from agents.step.stacked import Layout, flatten
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from agents.vec_env import env_prior
from melody_env.note_rnn import NoteRNN, NoteRNNConfig

H, B = 6, 10


def test_drifting_log_prior_by_hand():
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    bias = torch.tensor([0.0, 0.0, math.log(2.0)])
    # logits (ln 2, 0, ln 2): probabilities 2/5, 1/5, 2/5
    out = drifting_log_prior(weight, bias, torch.tensor([[math.log(2.0), 0.0]]))
    expected = torch.tensor([[math.log(0.4), math.log(0.2), math.log(0.4)]])
    assert torch.allclose(out, expected, atol=1e-6)


def _setup(seed=0):
    torch.manual_seed(seed)
    net = NoteRNN(NoteRNNConfig(hidden_size=H))
    layout = Layout.of(net)
    stack = Stack(flatten(net)[None].clone(), flatten(net)[None].clone(), AdamState.zeros(1, layout.size), layout)
    g = torch.Generator().manual_seed(seed + 1)
    batch = (
        torch.randint(38, (1, B), generator=g),
        torch.randn(1, B, H, generator=g) * 0.5,
        torch.randn(1, B, H, generator=g) * 0.5,
        torch.randint(38, (1, B), generator=g),
        -torch.rand(1, B, generator=g) * 3,  # log p(a|s)
        torch.randn(1, B, generator=g) * 3,  # rMT
        torch.arange(B)[None] % 4 == 3,  # done on some rows
        torch.rand(1, B, H, generator=g) * 2 - 1,  # h' of the env's Reward RNN
    )
    settings = StepSettings(algorithms=("g",), c=torch.tensor([[0.5]]))
    return net, stack, batch, settings


def test_prior_gradient_is_the_hand_derived_one():
    """∂L/∂b = mean over the batch of −2 (G − y) · γ · (π − p), not bootstrapped rows 0; ∂L/∂W = the same ⊗ h'."""
    net, stack, batch, settings = _setup()
    weight = net.head.weight.detach().clone().requires_grad_(True)
    bias = net.head.bias.detach().clone().requires_grad_(True)
    next_h = batch[-1][0]
    log_p = drifting_log_prior(weight, bias, batch[-1])
    prior_loss(stack, settings, batch, log_p).backward()
    with torch.no_grad():  # the same loss from NoteRNN.step, written out
        note, h0, c0, action, _, music_theory, done, _ = (f[0] for f in batch)
        logits, (h1, c1) = net.step(note, (h0, c0))
        value = logits.gather(1, action[:, None])[:, 0]
        next_g, _ = net.step(action, (h1, c1))
        p = torch.log_softmax(next_h @ net.head.weight.T + net.head.bias, -1)
        y = music_theory / 0.5 + 0.5 * (~done) * torch.logsumexp(p + next_g, -1)
        pi = torch.softmax(p + next_g, -1)
        dz = (-2 * (value - y) * 0.5 * (~done))[:, None] * (pi - p.exp()) / B  # (B, A)
    assert torch.allclose(bias.grad, dz.sum(0), atol=1e-6)
    assert torch.allclose(weight.grad, dz.T @ next_h, atol=1e-6)
    assert dz[done].abs().sum() == 0


def test_q_update_with_the_switch_equals_the_update_without():
    """Same batch, first step: θ, θ⁻ and Adam's moments are bitwise those of the step without the switch."""
    net, stack_on, batch, settings = _setup()
    stack_off = Stack(stack_on.theta.clone(), stack_on.target.clone(), AdamState.zeros(1, stack_on.layout.size),
                      stack_on.layout)  # fmt: skip
    reward_rnn = NoteRNN(NoteRNNConfig(hidden_size=H)).requires_grad_(False)  # frozen, as in TunerNetworks
    reward_rnn.load_state_dict(net.state_dict())
    before = {k: v.clone() for k, v in reward_rnn.state_dict().items()}
    drift = PriorDrift(reward_rnn, learning_rate=1e-3)
    off_prior = torch.log_softmax(reward_rnn.output(batch[-1]), -1)  # what the replay keeps without the switch
    on_batch = drift.step(stack_on, settings, batch)
    assert torch.equal(on_batch[-1], off_prior)
    on_stats = gradient_step(stack_on, settings, on_batch)
    off_stats = gradient_step(stack_off, settings, (*batch[:-1], off_prior))
    assert torch.equal(on_stats, off_stats)
    for name in ("theta", "target"):
        assert torch.equal(getattr(stack_on, name), getattr(stack_off, name))
    assert torch.equal(stack_on.adam.exp_avg_sq, stack_off.adam.exp_avg_sq)
    after = reward_rnn.state_dict()
    assert not torch.equal(after["head.weight"], before["head.weight"])
    assert not torch.equal(after["head.bias"], before["head.bias"])
    assert all(torch.equal(after[k], before[k]) for k in before if not k.startswith("head."))
    assert not any(p.requires_grad for p in reward_rnn.parameters())


def _g(make_env, note_rnn, **kw):
    env = make_env("g", num_envs=4)
    return RLTuner("g", env, prior=note_rnn, seed=5, batch_size=8, **kw)


def test_off_keeps_the_reward_rnn_bitwise_on_moves_its_output_layer_only(make_env, note_rnn):
    start = {k: v.clone() for k, v in note_rnn.state_dict().items()}
    off, on = _g(make_env, note_rnn), _g(make_env, note_rnn, g_trains_reward_rnn=True)
    off.learn(64)
    on.learn(64)
    for key, value in off.networks.reward_rnn.state_dict().items():
        assert torch.equal(value, start[key]), key
    drifted = on.networks.reward_rnn.state_dict()
    assert not torch.equal(drifted["head.weight"], start["head.weight"])
    assert all(torch.equal(drifted[k], start[k]) for k in start if not k.startswith("head."))
    env_rnn = env_prior(on.env)  # the env's Reward RNN, which computes h', stays frozen
    assert all(torch.equal(env_rnn.state_dict()[k], v) for k, v in start.items())
    # the replay keeps h' (H wide) instead of log p(·|s') (38 wide); the same melodies until the first update
    assert on.replay_buffer.next_log_prior.shape[1] == note_rnn.config.hidden_size
    assert off.replay_buffer.next_log_prior.shape[1] == 38
    assert torch.equal(on.replay_buffer.action[:8], off.replay_buffer.action[:8])
    assert not torch.equal(on.networks.theta, off.networks.theta)


def test_switch_survives_save_and_load(make_env, note_rnn, tmp_path):
    tuner = _g(make_env, note_rnn, g_trains_reward_rnn=True)
    tuner.learn(64)
    loaded = RLTuner.load(tuner.save(tmp_path / "g"))
    assert loaded.g_trains_reward_rnn and loaded.prior_drift is not None
    assert torch.equal(loaded.networks.reward_rnn.head.weight, tuner.networks.reward_rnn.head.weight)
    assert torch.equal(loaded.prior_drift.weight, tuner.networks.reward_rnn.head.weight)  # the leaf sees the load


def test_switch_is_refused_where_it_cannot_apply(make_env, note_rnn):
    with pytest.raises(ValueError, match="G-learning only"):
        RLTuner("q", make_env("q", num_envs=4), prior=note_rnn, g_trains_reward_rnn=True)
    alone = _g(make_env, note_rnn, g_trains_reward_rnn=True)
    with pytest.raises(ValueError, match="trains alone"):
        Population([alone, _g(make_env, note_rnn)])
