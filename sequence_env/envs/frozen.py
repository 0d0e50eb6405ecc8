"""A frozen prior stepped in numpy: the env's one-step inference without torch's per-call overhead.

The env only ever runs the prior forward, one token at a time, on weights that never change, and its
state lives in numpy arrays, which is what the observation holds anyway. :func:`frozen_stepper` picks
:class:`FrozenLSTM` for a one-layer :class:`~sequence_env.lstm.LSTMPrior` (for such a small step a few
numpy operations beat a chain of torch calls; ``benchmarks/speed/bench_env.py`` measures both) and
:class:`TorchStepper` for any other prior. Both return the numbers of the prior's own ``step`` to
float32 rounding (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sequence_env.lstm import LSTMPrior
from sequence_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads
from sequence_env.threads import torch_threads as using_threads  # the argument of that name shadows it

NumpyState = tuple[np.ndarray, ...]


class _Stepper:
    """What both steppers share: the thread setting and a ``step`` that runs on it."""

    def __init__(self, torch_threads: int | None) -> None:
        self.torch_threads = check_torch_threads(torch_threads)

    def step(self, tokens: np.ndarray, state: NumpyState) -> tuple[np.ndarray, NumpyState]:
        """Feed one token per row: ``(log p(·|s') (N, V) float32, the new state)``.

        :param tokens: ``(N,)`` int ids just played. :param state: the state before them.
        """
        threads = self.torch_threads
        if threads is None or torch.get_num_threads() == threads:  # no switch needed: skip the context manager
            return self._step(tokens, state)
        with using_threads(threads):
            return self._step(tokens, state)

    def _step(self, tokens: np.ndarray, state: NumpyState) -> tuple[np.ndarray, NumpyState]:
        raise NotImplementedError


class FrozenLSTM(_Stepper):
    """Inference-only float32 copy of a one-layer :class:`LSTMPrior` (PyTorch gate order i, f, g, o).

    :param model: the prior whose current weights are copied (later changes to it are not seen).
    :param torch_threads: torch threads of the copy and of every ``step``; ``None``: torch's global setting.
    """

    def __init__(self, model: LSTMPrior, torch_threads: int | None = DEFAULT_TORCH_THREADS) -> None:
        super().__init__(torch_threads)
        if model.num_layers != 1:
            raise ValueError(f"FrozenLSTM copies a one-layer LSTM, got {model.num_layers} layers; use TorchStepper")
        lstm = model.lstm
        with torch.no_grad(), using_threads(self.torch_threads):
            bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
            self.input_table = (lstm.weight_ih_l0.t() + bias).float().numpy().copy()  # (V, 4H): gates of token k
            self.w_hh = lstm.weight_hh_l0.t().float().contiguous().clone()  # (H, 4H), torch: see _step
            self.w_out = model.head.weight.t().float().contiguous().clone()  # (H, V)
            self.b_out = model.head.bias.float().numpy().copy()  # (V,)
        self.hidden_size = model.hidden_size

    def initial_state(self, batch_size: int) -> NumpyState:
        """Zero state ``(h, c)``, each ``(batch_size, H)`` float32."""
        zeros = np.zeros((batch_size, self.hidden_size), dtype=np.float32)
        return zeros, zeros.copy()

    def _step(self, tokens: np.ndarray, state: NumpyState) -> tuple[np.ndarray, NumpyState]:
        """The two matrix products go through ``torch.mm`` on zero-copy views, so they run on ``torch_threads``
        threads rather than on OpenBLAS's own pool: with numpy's matmul, two training processes on 2 cores
        ran about 3x slower. On one thread no OpenMP pool is created, so a process stepping the env can
        still fork workers that use torch."""
        h, c = state
        size = self.hidden_size
        gates = self.input_table[tokens]  # (N, 4H), a copy
        gates += torch.mm(torch.from_numpy(h), self.w_hh).numpy()
        sig = np.tanh(gates * 0.5)  # sigmoid(x) = (tanh(x / 2) + 1) / 2, one pass over all gates
        sig += 1.0
        sig *= 0.5
        c = sig[:, size : 2 * size] * c + sig[:, :size] * np.tanh(gates[:, 2 * size : 3 * size])
        h = sig[:, 3 * size :] * np.tanh(c)
        logits = torch.mm(torch.from_numpy(h), self.w_out).numpy() + self.b_out  # (N, V)
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logits, (h, c)


class TorchStepper(_Stepper):
    """Any prior of the protocol (:mod:`sequence_env.prior`), stepped by its own ``step`` without gradients.

    :param model: the (frozen) prior. :param torch_threads: as :class:`FrozenLSTM`'s.
    """

    def __init__(self, model: Any, torch_threads: int | None = DEFAULT_TORCH_THREADS) -> None:
        super().__init__(torch_threads)
        self.model = model

    def initial_state(self, batch_size: int) -> NumpyState:
        """The prior's initial state as float32 numpy arrays."""
        with torch.no_grad(), using_threads(self.torch_threads):
            return tuple(part.float().numpy().copy() for part in self.model.initial_state(batch_size))

    def _step(self, tokens: np.ndarray, state: NumpyState) -> tuple[np.ndarray, NumpyState]:
        with torch.no_grad():
            logits, new = self.model.step(
                torch.as_tensor(tokens, dtype=torch.long), tuple(map(torch.from_numpy, state))
            )
            log_probs = torch.log_softmax(logits.float(), -1).numpy()
        return log_probs, tuple(part.float().numpy() for part in new)


def frozen_stepper(model: Any, torch_threads: int | None = DEFAULT_TORCH_THREADS) -> FrozenLSTM | TorchStepper:
    """The fastest numpy stepper for ``model``: :class:`FrozenLSTM` for a one-layer LSTM, else :class:`TorchStepper`."""
    if isinstance(model, LSTMPrior) and model.num_layers == 1:
        return FrozenLSTM(model, torch_threads)
    return TorchStepper(model, torch_threads)


__all__ = ["FrozenLSTM", "TorchStepper", "frozen_stepper"]
