"""K copies of the prior's network in one ``(K, P)`` tensor, and the one-layer LSTM's batched one-step forward.

The tuners train copies of one small network: the Q network and its target network, for one agent or
for K agents in lock-step (:mod:`agents.population`). Each copy's parameters are views into one
row of a ``(K, P)`` tensor (a one-layer LSTM's six in the order of :data:`PARAMETER_NAMES`, any other
prior's in ``named_parameters`` order), so that

- the optimiser, the gradient clip and the target-network update are one or two tensor operations
  over all parameters of all K copies, instead of one per parameter tensor;
- one batched matrix product (``baddbmm``) serves the K copies in the forward and backward passes.

A copy's parameters keep being ordinary ``nn.Parameter`` objects of its module (their ``.data`` points
into the row), so ``state_dict``, the prior's ``step`` and sampling see the trained weights.

The one-layer LSTM's (:func:`is_fast_lstm`, the shape the compiled step knows): ``lstm.weight_ih_l0 (4H, A)``,
``lstm.weight_hh_l0 (4H, H)``,
``lstm.bias_ih_l0 (4H,)``, ``lstm.bias_hh_l0 (4H,)``, ``head.weight (A, H)``, ``head.bias (A,)``; PyTorch's
gate order is input, forget, cell, output.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import torch
from torch import Tensor, nn

from sequence_env.lstm import LSTMPrior, tanh

PARAMETER_NAMES = (
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.bias_ih_l0",
    "lstm.bias_hh_l0",
    "head.weight",
    "head.bias",
)


def is_fast_lstm(net: nn.Module) -> bool:
    """Whether ``net`` is a one-layer :class:`~sequence_env.lstm.LSTMPrior`: the shape the compiled step knows."""
    return (
        isinstance(net, LSTMPrior) and net.num_layers == 1 and set(dict(net.named_parameters())) == set(PARAMETER_NAMES)
    )


class Layout(NamedTuple):
    """Where each parameter lives in a row of the flat tensor."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int  # P, parameters per copy

    @classmethod
    def of(cls, net: nn.Module) -> Layout:
        """The layout of ``net``'s parameters (:func:`parameter_names` order)."""
        names = parameter_names(net)
        params = dict(net.named_parameters())
        shapes = tuple(tuple(params[name].shape) for name in names)
        offsets, total = [], 0
        for shape in shapes:
            offsets.append(total)
            total += math.prod(shape)
        return cls(names, shapes, tuple(offsets), total)


def parameter_names(net: nn.Module) -> tuple[str, ...]:
    """A one-layer LSTM's :data:`PARAMETER_NAMES`, or any other network's ``named_parameters`` order."""
    return PARAMETER_NAMES if is_fast_lstm(net) else tuple(name for name, _ in net.named_parameters())


def ordered_parameters(net: nn.Module) -> list[nn.Parameter]:
    """``net``'s parameters in :func:`parameter_names` order."""
    params = dict(net.named_parameters())
    return [params[name] for name in parameter_names(net)]


def split(flat: Tensor, layout: Layout) -> list[Tensor]:
    """Views ``(K, *shape)`` of each parameter in ``flat (K, P)``, in :data:`PARAMETER_NAMES` order."""
    k = flat.shape[0]
    return [
        flat[:, offset : offset + math.prod(shape)].view(k, *shape)
        for shape, offset in zip(layout.shapes, layout.offsets, strict=True)
    ]


def flatten(net: nn.Module) -> Tensor:
    """A new ``(P,)`` tensor holding ``net``'s parameters in :data:`PARAMETER_NAMES` order."""
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in ordered_parameters(net)])


def bind(net: nn.Module, row: Tensor, layout: Layout) -> None:
    """Point ``net``'s parameters at views of ``row (P,)`` (whose values they must already hold)."""
    for param, view in zip(ordered_parameters(net), split(row.unsqueeze(0), layout), strict=True):
        param.data = view[0]


@lru_cache(maxsize=8)
def _eye(num_classes: int) -> Tensor:
    return torch.eye(num_classes)


def one_hot(notes: Tensor, num_classes: int) -> Tensor:
    """``(..., num_classes)`` float32 one-hot rows of int64 ``notes``."""
    return _eye(num_classes).index_select(0, notes.reshape(-1)).view(*notes.shape, num_classes)


def lstm_step(params: list[Tensor], x: Tensor, h0: Tensor, cell0: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One LSTM step of K copies: ``(sigmoid of the input, forget and output gates, tanh of the cell gate, h1, cell1)``.

    The first tensor's cell-gate slice holds σ(2z), from which the cell gate's tanh is taken (its
    backward uses the tanh, ``1 − tanh²``).

    The input enters as a one-hot batch, so that the K copies' input weights are read with one batched
    product (no per-copy gather).

    :param params: :func:`split` views of the K copies. :param x: ``(K, B, A)`` one-hot previous notes.
    :param h0: ``(K, B, H)``. :param cell0: ``(K, B, H)``.
    """
    w_ih, w_hh, b_ih, b_hh = params[:4]
    hidden = w_hh.shape[2]
    inputs = torch.baddbmm((b_ih + b_hh).unsqueeze(1), x, w_ih.transpose(1, 2))  # (K, B, 4H): W_ih x + b
    gates = torch.baddbmm(inputs, h0, w_hh.transpose(1, 2))
    gates[..., 2 * hidden : 3 * hidden] *= 2.0  # the cell gate's tanh(z) = 2·σ(2z) − 1 (sequence_env.lstm.tanh)
    sig = torch.sigmoid(gates)
    cell_in = sig[..., 2 * hidden : 3 * hidden] * 2.0 - 1.0
    cell1 = torch.addcmul(sig[..., hidden : 2 * hidden] * cell0, sig[..., :hidden], cell_in)
    h1 = sig[..., 3 * hidden :] * tanh(cell1)
    return sig, cell_in, h1, cell1


def head(params: list[Tensor], h1: Tensor) -> Tensor:
    """All values ``(K, B, A)`` of the output layer on LSTM outputs ``h1 (K, B, H)``."""
    w_o, b_o = params[4:]
    return torch.baddbmm(b_o.unsqueeze(1), h1, w_o.transpose(1, 2))


def stacked_values(
    params: list[Tensor], notes: Tensor, h0: Tensor, cell0: Tensor
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """All values ``(K, B, A)`` after one step of K one-layer LSTMs on ``notes (K, B)``, and the new state."""
    _, _, h1, cell1 = lstm_step(params, one_hot(notes, params[0].shape[2]), h0, cell0)
    return head(params, h1), (h1, cell1)


__all__ = [
    "PARAMETER_NAMES",
    "Layout",
    "bind",
    "flatten",
    "head",
    "is_fast_lstm",
    "lstm_step",
    "one_hot",
    "ordered_parameters",
    "parameter_names",
    "split",
    "stacked_values",
]
