"""One recurrent step of the Q network with a hand-written gradient (the training hot loop).

A gradient step needs only the value of the action taken, ``V(s, a) = W_o[a] · h' + b_o[a]`` after one
LSTM step from the stored state (SPEC §5: no backpropagation through time). Its gradient is a dozen
small tensor operations; writing them out instead of asking autograd halves the cost of a step of
batch 32 on CPU, where per-operation overhead, not arithmetic, dominates. The numbers are those of
autograd on :meth:`melody_env.note_rnn.NoteRNN.step` (checked in ``tests/agents``).

Parameters are the Note RNN's, in its order: ``lstm.weight_ih_l0 (4H, A)``, ``lstm.weight_hh_l0
(4H, H)``, ``lstm.bias_ih_l0 (4H,)``, ``lstm.bias_hh_l0 (4H,)``, ``head.weight (A, H)``, ``head.bias (A,)``;
PyTorch's gate order is input, forget, cell, output.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

PARAMETER_NAMES = (
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.bias_ih_l0",
    "lstm.bias_hh_l0",
    "head.weight",
    "head.bias",
)


class StepCache(NamedTuple):
    """What the backward pass needs from the forward pass (all (B, ·))."""

    notes: Tensor
    actions: Tensor
    h0: Tensor
    c0: Tensor
    sig: Tensor  # sigmoid of all gate pre-activations (B, 4H)
    cell_in: Tensor  # tanh of the cell gate (B, H)
    tanh_c1: Tensor
    h1: Tensor
    head_rows: Tensor  # W_o[a] (B, H)


def ordered_parameters(net: nn.Module) -> list[nn.Parameter]:
    """The Note RNN's parameters in :data:`PARAMETER_NAMES` order (refuses another architecture)."""
    params = dict(net.named_parameters())
    if set(params) != set(PARAMETER_NAMES):
        raise ValueError(f"expected a Note RNN with parameters {PARAMETER_NAMES}, got {sorted(params)}")
    return [params[name] for name in PARAMETER_NAMES]


def lstm_values(params: list[Tensor], notes: Tensor, h0: Tensor, c0: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One step of the network: all values (B, A) and the new state, like ``NoteRNN.step``.

    Parameters are read afresh at every call (no cached input table: the fused Adam step changes
    them in place without bumping their version counters).
    """
    w_ih, w_hh, b_ih, b_hh, w_o, b_o = params
    hidden = w_hh.shape[1]
    gates = torch.addmm(w_ih.t().index_select(0, notes) + (b_ih + b_hh), h0, w_hh.t())  # (B, 4H)
    sig = torch.sigmoid(gates)
    c1 = torch.addcmul(sig[:, hidden : 2 * hidden] * c0, sig[:, :hidden], torch.tanh(gates[:, 2 * hidden : 3 * hidden]))
    h1 = sig[:, 3 * hidden :] * torch.tanh(c1)
    return torch.addmm(b_o, h1, w_o.t()), (h1, c1)


@torch.no_grad()
def forward_taken(
    params: list[Tensor], notes: Tensor, h0: Tensor, c0: Tensor, actions: Tensor
) -> tuple[Tensor, Tensor, Tensor, StepCache]:
    """One LSTM step from ``(h0, c0)`` on the previous notes, and the value of the actions taken.

    :return: ``(value_taken (B,), h1, c1, cache)``; ``(h1, c1)`` is the state at s'.
    """
    w_ih, w_hh, b_ih, b_hh, w_o, b_o = params
    hidden = w_hh.shape[1]
    gates = torch.addmm(w_ih.t().index_select(0, notes) + (b_ih + b_hh), h0, w_hh.t())  # (B, 4H)
    sig = torch.sigmoid(gates)
    cell_in = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
    c1 = torch.addcmul(sig[:, hidden : 2 * hidden] * c0, sig[:, :hidden], cell_in)
    tanh_c1 = torch.tanh(c1)
    h1 = sig[:, 3 * hidden :] * tanh_c1
    head_rows = w_o.index_select(0, actions)  # (B, H)
    value = (h1 * head_rows).sum(1) + b_o.index_select(0, actions)
    return value, h1, c1, StepCache(notes, actions, h0, c0, sig, cell_in, tanh_c1, h1, head_rows)


@torch.no_grad()
def backward_taken(params: list[Tensor], cache: StepCache, d_value: Tensor, grads: list[Tensor]) -> None:
    """Write ∂L/∂θ into ``grads`` (same shapes as ``params``) given ``d_value = ∂L/∂V(s, a)`` (B,)."""
    g_ih, g_hh, g_bih, g_bhh, g_o, g_bo = grads
    hidden = params[1].shape[1]
    sig, cell_in, tanh_c1 = cache.sig, cache.cell_in, cache.tanh_c1
    i, o = sig[:, :hidden], sig[:, 3 * hidden :]
    g_o.zero_().index_add_(0, cache.actions, cache.h1 * d_value[:, None])
    g_bo.zero_().index_add_(0, cache.actions, d_value)
    d_h1 = cache.head_rows * d_value[:, None]  # (B, H)
    d_c1 = d_h1 * o * (1.0 - tanh_c1 * tanh_c1)
    upstream = torch.cat([d_c1 * cell_in, d_c1 * cache.c0, d_c1 * i, d_h1 * tanh_c1], dim=1)  # (B, 4H)
    local = sig * (1.0 - sig)
    local[:, 2 * hidden : 3 * hidden] = 1.0 - cell_in * cell_in
    d_gates = upstream * local  # ∂L/∂(pre-activations)
    torch.mm(d_gates.t(), cache.h0, out=g_hh)
    g_ih.zero_().t().index_add_(0, cache.notes, d_gates)
    torch.sum(d_gates, 0, out=g_bih)
    g_bhh.copy_(g_bih)


__all__ = ["PARAMETER_NAMES", "StepCache", "backward_taken", "forward_taken", "lstm_values", "ordered_parameters"]
