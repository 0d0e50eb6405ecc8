"""The frozen Reward RNN in numpy: the env's one-step inference without torch's per-call overhead.

The env only ever runs the Reward RNN forward, one note at a time, on weights that never change. For
such a small step a few numpy operations beat a chain of torch calls (measured on 2 cores, one
thread: ≈30 µs against ≈50 µs at N = 1, ≈0.5 ms against ≈0.6 ms at N = 256), and the state stays in
numpy arrays, which is what the observation holds anyway. The numbers equal :meth:`melody_env.note_rnn.NoteRNN.step` to
float32 rounding (tested).
"""

from __future__ import annotations

import numpy as np
import torch

from melody_env.note_rnn import NoteRNN
from melody_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads
from melody_env.threads import torch_threads as using_threads  # the argument of that name shadows it


class FrozenNoteRNN:
    """Inference-only float32 copy of a :class:`NoteRNN` (one LSTM layer, PyTorch gate order i, f, g, o).

    :param model: the Note RNN whose current weights are copied (later changes to it are not seen).
    :param torch_threads: torch threads of the copy and of every ``step`` (see :mod:`melody_env.threads`);
        ``None`` runs them on torch's global setting.
    """

    def __init__(self, model: NoteRNN, torch_threads: int | None = DEFAULT_TORCH_THREADS) -> None:
        self.torch_threads = check_torch_threads(torch_threads)
        lstm = model.lstm
        with torch.no_grad(), using_threads(self.torch_threads):
            bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
            self.input_table = (lstm.weight_ih_l0.t() + bias).float().numpy().copy()  # (38, 4H): gates of note k
            self.w_hh = lstm.weight_hh_l0.t().float().contiguous().clone()  # (H, 4H), torch: see step
            self.w_out = model.head.weight.t().float().contiguous().clone()  # (H, 38)
            self.b_out = model.head.bias.float().numpy().copy()  # (38,)
        self.hidden_size = model.config.hidden_size

    def initial_state(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero state ``(h, c)``, each ``(batch_size, H)`` float32."""
        zeros = np.zeros((batch_size, self.hidden_size), dtype=np.float32)
        return zeros, zeros.copy()

    def step(self, notes: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Feed one note per row: ``(log p(·|s') (N, 38), h' (N, H), c' (N, H))``, all float32.

        The two matrix products go through ``torch.mm`` on zero-copy views, so they run on
        ``torch_threads`` threads (one by default) rather than on OpenBLAS's own pool: with numpy's
        matmul, two training processes on 2 cores ran about 3x slower. On one thread no OpenMP pool
        is created, so a process stepping the env can still fork workers that use torch.

        :param notes: ``(N,)`` int classes just played. :param h: ``(N, H)``. :param c: ``(N, H)``.
        """
        threads = self.torch_threads
        if threads is None or torch.get_num_threads() == threads:  # no switch needed: skip the context (≈4 µs)
            return self._step(notes, h, c)
        with using_threads(threads):
            return self._step(notes, h, c)

    def _step(self, notes: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = self.hidden_size
        gates = self.input_table[notes]  # (N, 4H), a copy
        gates += torch.mm(torch.from_numpy(h), self.w_hh).numpy()
        sig = np.tanh(gates * 0.5)  # sigmoid(x) = (tanh(x / 2) + 1) / 2, one pass over all gates
        sig += 1.0
        sig *= 0.5
        c = sig[:, size : 2 * size] * c + sig[:, :size] * np.tanh(gates[:, 2 * size : 3 * size])
        h = sig[:, 3 * size :] * np.tanh(c)
        logits = torch.mm(torch.from_numpy(h), self.w_out).numpy() + self.b_out  # (N, 38)
        logits -= logits.max(axis=1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logits, h, c


__all__ = ["FrozenNoteRNN"]
