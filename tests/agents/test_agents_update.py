"""The batched gradient step equals autograd + torch.optim.Adam on NoteRNN.step, agent by agent."""

import pytest
import torch
import torch.nn.functional as F

from agents.step.stacked import Layout, flatten, split, stacked_values
from agents.step.targets import g_target, psi_target, q_target, td_reward
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from melody_env.note_rnn import NoteRNN, NoteRNNConfig

H, B = 12, 40  # more rows than classes: repeated notes and actions must accumulate
TARGETS = {"q": q_target, "rl_only": q_target, "psi": psi_target}


def _batch(seed, with_prior=True):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randint(38, (B,), generator=g),
        torch.randn(B, H, generator=g) * 0.5,
        torch.randn(B, H, generator=g),
        torch.randint(38, (B,), generator=g),
        -torch.rand(B, generator=g) * 4,  # log p(a|s)
        torch.randn(B, generator=g) * 3,  # rMT
        torch.rand(B, generator=g) < 0.3,  # done
        torch.log_softmax(torch.randn(B, 38, generator=g), -1) if with_prior else None,
    )


def _oracle_steps(net, target_net, batches, algorithm, c, gamma=0.5, tau=0.01, lr=1e-3, max_norm=5.0, per_tensor=False):
    """Autograd on NoteRNN.step, torch's clip and fused Adam, lerp: the reference for one agent."""
    opt = torch.optim.Adam(net.parameters(), lr=lr, fused=True)
    for note, h, cc, action, log_prior, music_theory, done, next_log_prior in batches:
        opt.zero_grad()
        logits, (h1, c1) = net.step(note, (h, cc))
        value = logits.gather(1, action[:, None]).squeeze(1)
        with torch.no_grad():
            next_values, _ = target_net.step(action, (h1.detach(), c1.detach()))
            reward = td_reward(algorithm, log_prior, music_theory, c)
            if algorithm == "g":
                y = g_target(reward, next_values, next_log_prior, done, gamma)
            else:
                y = TARGETS[algorithm](reward, next_values, done, gamma)
        F.mse_loss(value, y).backward()
        if per_tensor:
            for p in net.parameters():
                torch.nn.utils.clip_grad_norm_([p], max_norm)
        else:
            torch.nn.utils.clip_grad_norm_(list(net.parameters()), max_norm)
        opt.step()
        with torch.no_grad():
            for tp, p in zip(target_net.parameters(), net.parameters(), strict=True):
                tp.lerp_(p, tau)
    return flatten(net), flatten(target_net)


def _nets(seed):
    torch.manual_seed(seed)
    net = NoteRNN(NoteRNNConfig(hidden_size=H))
    target = NoteRNN(NoteRNNConfig(hidden_size=H))
    return net, target


def _stacked_steps(nets, batches_per_agent, algorithms, cs, **kw):
    layout = Layout.of(nets[0][0])
    theta = torch.stack([flatten(n) for n, _ in nets])
    target = torch.stack([flatten(t) for _, t in nets])
    stack = Stack(theta, target, AdamState.zeros(len(nets), layout.size), layout)
    settings = StepSettings(algorithms=tuple(algorithms), c=torch.tensor(cs).reshape(-1, 1), **kw)
    for step in range(len(batches_per_agent[0])):
        fields = zip(*(b[step] for b in batches_per_agent), strict=True)
        batch = tuple(None if f[0] is None else torch.stack(f) for f in fields)
        gradient_step(stack, settings, batch)
    return theta, target


@pytest.mark.parametrize("algorithm", ["q", "psi", "g", "rl_only"])
def test_gradient_step_matches_autograd_and_torch_adam(algorithm):
    net, target_net = _nets(0)
    batches = [_batch(s) for s in range(3)]
    theta, target = _stacked_steps([(net, target_net)], [batches], [algorithm], [0.5])
    want_theta, want_target = _oracle_steps(net, target_net, batches, algorithm, 0.5)
    assert torch.allclose(theta[0], want_theta, atol=1e-6)
    assert torch.allclose(target[0], want_target, atol=1e-6)
    assert not torch.equal(theta[0], flatten(_nets(0)[0]))  # it moved


def test_per_tensor_clip_matches_the_original_rule():
    net, target_net = _nets(1)
    batches = [_batch(s) for s in range(2)]
    theta, _ = _stacked_steps([(net, target_net)], [batches], ["q"], [0.5], max_grad_norm=0.05, clip="per_tensor")
    want, _ = _oracle_steps(net, target_net, batches, "q", 0.5, max_norm=0.05, per_tensor=True)
    assert torch.allclose(theta[0], want, atol=1e-6)
    net2, target2 = _nets(1)
    global_theta, _ = _stacked_steps([(net2, target2)], [batches], ["q"], [0.5], max_grad_norm=0.05)
    assert not torch.allclose(global_theta[0], want, atol=1e-6)  # the switch changes the clipping


def test_stacked_agents_equal_each_agent_alone():
    """K agents with their own algorithm, c and batches give the numbers each gives alone."""
    algorithms, cs = ["q", "g", "psi"], [0.5, 2.0, 1.0]
    nets = [_nets(s) for s in range(3)]
    batches = [[_batch(10 * k + s) for s in range(3)] for k in range(3)]
    theta, target = _stacked_steps(nets, batches, algorithms, cs)
    for k in range(3):
        alone_theta, alone_target = _stacked_steps([_nets(k)], [batches[k]], [algorithms[k]], [cs[k]])
        assert torch.equal(theta[k], alone_theta[0])
        assert torch.equal(target[k], alone_target[0])


def test_bootstrap_last_note_switch():
    """With done everywhere, the default target is r; the original's bootstraps r + γ max Q⁻(s')."""
    from agents.step.update import td_targets

    reward = torch.tensor([[1.0, -2.0]])
    next_values = torch.tensor([[[0.0, 3.0], [4.0, -1.0]]])
    done = torch.tensor([[True, True]])
    zeros = torch.zeros(1, 2)
    kept = td_targets(StepSettings(("rl_only",), torch.ones(1, 1)), zeros, reward, next_values, None, done)
    boot = td_targets(
        StepSettings(("rl_only",), torch.ones(1, 1), bootstrap_last_note=True), zeros, reward, next_values, None, done
    )
    assert kept.tolist() == [[1.0, -2.0]]
    assert boot.tolist() == [[1.0 + 0.5 * 3.0, -2.0 + 0.5 * 4.0]]


def test_stacked_values_equal_note_rnn_step():
    net, _ = _nets(2)
    layout = Layout.of(net)
    notes, h, c = torch.randint(38, (5,)), torch.randn(5, H), torch.randn(5, H)
    values, (h1, c1) = stacked_values(split(flatten(net).unsqueeze(0), layout), notes[None], h[None], c[None])
    logits, (h2, c2) = net.step(notes, (h, c))
    assert torch.allclose(values[0], logits, atol=1e-6)
    assert torch.allclose(h1[0], h2, atol=1e-6) and torch.allclose(c1[0], c2, atol=1e-6)
