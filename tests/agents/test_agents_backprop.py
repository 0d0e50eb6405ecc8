"""The hand-written gradient of one recurrent step equals autograd on NoteRNN.step."""

import torch
import torch.nn.functional as F

from agents.backprop import backward_taken, forward_taken, lstm_values, ordered_parameters
from melody_env.note_rnn import NoteRNN, NoteRNNConfig


def test_manual_gradient_matches_autograd():
    torch.manual_seed(0)
    net = NoteRNN(NoteRNNConfig(hidden_size=12))
    params = ordered_parameters(net)
    batch = 40  # more rows than classes: repeated notes and actions must accumulate
    notes, actions = torch.randint(38, (batch,)), torch.randint(38, (batch,))
    h0, c0, y = torch.randn(batch, 12) * 0.5, torch.randn(batch, 12), torch.randn(batch)
    logits, (h1, c1) = net.step(notes, (h0, c0))
    F.mse_loss(logits.gather(1, actions[:, None]).squeeze(1), y).backward()

    value, h1_manual, c1_manual, cache = forward_taken(params, notes, h0, c0, actions)
    grads = [torch.full_like(p, float("nan")) for p in params]  # every entry must be overwritten
    backward_taken(params, cache, 2.0 * (value - y) / batch, grads)
    assert torch.allclose(h1_manual, h1) and torch.allclose(c1_manual, c1)
    for param, grad in zip(params, grads, strict=True):
        assert torch.allclose(grad, param.grad, atol=1e-6), param.shape
    values, _ = lstm_values(params, notes, h0, c0)
    assert torch.allclose(values, logits, atol=1e-6)
