"""The LSTM prior: one-hot tokens in, ``num_layers`` LSTM layers, next-token logits out (docs/spec.md §3, §10).

``forward`` runs whole sequences through ``nn.LSTM`` (training); ``step`` advances any number of
sequences by one token with :func:`lstm_head_step` (one layer) or the same cell layer by layer, on the
same weights, to float rounding of ``forward`` (about 1e-7), and differentiable when grad is enabled.

:func:`tanh` computes tanh as ``2·σ(2x) − 1``. Why by hand: torch's CPU ``tanh`` is several
times slower than its ``sigmoid`` on the small one-thread tensors here, which made tanh the largest
single cost of composing and of the tuners' gradient step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import Tensor, nn

from sequence_env.checkpoint import CheckpointError, load_checkpoint, load_state_dict_strict, save_checkpoint
from sequence_env.threads import DEFAULT_TORCH_THREADS, torch_threads

LSTMState = tuple[Tensor, Tensor]


def tanh(x: Tensor) -> Tensor:
    """tanh(x) as ``2·σ(2x) − 1``: equal to ``torch.tanh`` within 2e-7, several times faster on a CPU (module docs)."""
    return torch.sigmoid(x * 2.0).mul(2.0).sub_(1.0)


def lstm_cell(inputs: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> LSTMState:
    """One LSTM cell from the input part of the gates ``inputs (B, 4H)`` (``W_ih x + b``): ``(h1, c1)``.

    PyTorch's gate order (input, forget, cell, output).
    """
    hidden = w_hh.shape[1]
    gates = torch.addmm(inputs, h0, w_hh.t())
    sig = torch.sigmoid(gates)
    c1 = torch.addcmul(sig[:, hidden : 2 * hidden] * c0, sig[:, :hidden], tanh(gates[:, 2 * hidden : 3 * hidden]))
    return sig[:, 3 * hidden :] * tanh(c1), c1


def lstm_head_step(params: Sequence[Tensor], tokens: Tensor, h0: Tensor, c0: Tensor) -> tuple[Tensor, LSTMState]:
    """One LSTM step and the output layer on ``tokens (B,)`` from ``(h0, c0)`` each ``(B, H)``: ``(out, (h, c))``.

    The input weights are gathered by token (``index_select``) rather than multiplied by a one-hot
    batch, which at thousands of rows saves a quarter of the arithmetic.

    :param params: ``lstm.weight_ih_l0 (4H, V)``, ``lstm.weight_hh_l0``, ``lstm.bias_ih_l0``,
        ``lstm.bias_hh_l0``, ``head.weight (V, H)``, ``head.bias``.
    """
    w_ih, w_hh, b_ih, b_hh, w_o, b_o = params
    table = (w_ih.t() + (b_ih + b_hh)).contiguous()  # (V, 4H) row-major: a row gather reads one block
    h1, c1 = lstm_cell(table.index_select(0, tokens), h0, c0, w_hh)
    return torch.addmm(b_o, h1, w_o.t()), (h1, c1)


@dataclass(frozen=True)
class LSTMConfig:
    """Shape of an :class:`LSTMPrior`.

    :param vocab_size: tokens in and out. :param hidden_size: cells per layer. :param num_layers: LSTM layers.
    """

    vocab_size: int
    hidden_size: int = 256
    num_layers: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}.{f.name} must be a positive int, got {value!r}")


class LSTMPrior(nn.Module):
    """LSTM next-token model: ``logits(x_{t+1} | x_{≤t}) = Linear(LSTM(one_hot(x_t)))``, an autoregressive prior.

    Its state is ``(h, c)``, each ``(B, num_layers · H)`` (the layers side by side); the last layer's
    ``h`` gives the logits (:meth:`output`).

    :param config: sizes.
    """

    KIND: ClassVar[str] = "lstm_prior"
    FORMAT_VERSION: ClassVar[int] = 1
    CONFIG: ClassVar[type] = LSTMConfig
    DISPLAY_NAME: ClassVar[str] = "LSTM prior"
    state_names: ClassVar[tuple[str, ...]] = ("h", "c")

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        vocab, hidden, layers = self.vocab_size, config.hidden_size, self.num_layers
        self.lstm = nn.LSTM(vocab, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    @property
    def vocab_size(self) -> int:
        """Tokens in and out."""
        return self.config.vocab_size

    @property
    def hidden_size(self) -> int:
        """LSTM cells per layer."""
        return self.config.hidden_size

    @property
    def num_layers(self) -> int:
        """LSTM layers."""
        return getattr(self.config, "num_layers", 1)

    # ----------------------------------------------------------------------------------- running
    def initial_state(self, batch_size: int) -> LSTMState:
        """Zero state ``(h, c)``, each ``(batch_size, num_layers · H)``."""
        weight = self.head.weight
        size = self.num_layers * self.hidden_size
        zeros = torch.zeros(batch_size, size, dtype=weight.dtype, device=weight.device)
        return zeros, zeros.clone()

    def output(self, state: LSTMState | Tensor) -> Tensor:
        """Next-token logits ``(..., V)`` of a state ``(h, c)`` : the output layer on the last layer's h."""
        h = state[0] if isinstance(state, tuple) else state
        return self.head(h[..., -self.hidden_size :])

    def forward(self, tokens: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """Run whole sequences: ``tokens (B, T)`` int64 → ``(logits (B, T, V), state after the last token)``."""
        tokens = self._check_tokens(tokens, 2)
        h, c = self._check_state(state, tokens.shape[0])
        x = F.one_hot(tokens, self.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        out, (h, c) = self.lstm(x, (self._layers(h), self._layers(c)))  # (B, T, H)
        return self.head(out), (self._flat(h), self._flat(c))

    def step(self, tokens: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """Advance each sequence by one token: ``tokens (B,)`` → ``(logits (B, V), new state)``, as ``forward`` does."""
        tokens = self._check_tokens(tokens, 1)
        h, c = self._check_state(state, tokens.shape[0])
        lstm, head = self.lstm, self.head
        if self.num_layers == 1:
            params = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, head.weight, head.bias)
            return lstm_head_step(params, tokens, h, c)
        hidden, hs, cs = self.hidden_size, [], []
        x = None
        for layer in range(self.num_layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
            bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
            inputs = (w_ih.t() + bias).index_select(0, tokens) if x is None else torch.addmm(bias, x, w_ih.t())
            part = slice(layer * hidden, (layer + 1) * hidden)
            x, c1 = lstm_cell(inputs, h[:, part], c[:, part], w_hh)
            hs.append(x)
            cs.append(c1)
        return head(x), (torch.cat(hs, 1), torch.cat(cs, 1))

    def log_prob(self, sequences: Tensor, state: LSTMState | None = None) -> Tensor:
        """``(B, T − 1)`` log p(x_{t+1} | x_{≤t}) of each token after the first, from ``state`` (zeros: None)."""
        logits, _ = self(sequences[:, :-1], state)
        return torch.log_softmax(logits, -1).gather(2, sequences[:, 1:, None])[..., 0]

    def state_spaces(self, max_steps: int) -> dict[str, spaces.Box]:
        """Observation spaces of ``h`` and ``c`` after at most ``max_steps`` tokens.

        ``|h| ≤ 1``; from the zero state ``c' = f·c + i·g`` with gates ``f, i`` in (0, 1) and ``|g| < 1``, so
        each token adds less than 1 to ``|c|`` (at most 1 in float32): ``|c| ≤ max_steps``.
        """
        size = self.num_layers * self.hidden_size
        return {
            "h": spaces.Box(-1.0, 1.0, (size,), "float32"),
            "c": spaces.Box(-float(max_steps), float(max_steps), (size,), "float32"),
        }

    # ------------------------------------------------------------------------------- checkpoints
    def config_dict(self) -> dict[str, Any]:
        """The constructor config as a JSON-ready dict (:meth:`from_config` rebuilds the shape)."""
        return asdict(self.config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LSTMPrior:
        """An untrained network of the shape ``config`` describes.

        :raises ValueError: a config this class does not accept.
        """
        return cls(cls.CONFIG(**config))

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> Path:
        """Write ``path.safetensors`` + ``path.json`` atomically (:mod:`sequence_env.checkpoint`); the JSON path."""
        return save_checkpoint(path, self.state_dict(), self.config_dict(), self.KIND, self.FORMAT_VERSION, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LSTMPrior:
        """Read a checkpoint written by :meth:`save`, in eval mode, on one torch thread (:mod:`sequence_env.threads`).

        :raises CheckpointError: missing or damaged files, another kind or version, a config this class does
            not accept, or tensors that do not fit the config.
        """
        with torch_threads(DEFAULT_TORCH_THREADS):
            checkpoint = load_checkpoint(path, cls.KIND, cls.FORMAT_VERSION)
            try:
                model = cls.from_config(checkpoint.config)
            except (TypeError, ValueError) as exc:
                raise CheckpointError(f"checkpoint {path} has an invalid {cls.DISPLAY_NAME} config: {exc}") from exc
            load_state_dict_strict(model, checkpoint.tensors, path)
        return model.eval()

    # ------------------------------------------------------------------------------------ checks
    def _layers(self, flat: Tensor) -> Tensor:
        """``(B, L·H)`` → nn.LSTM's ``(L, B, H)``."""
        return flat.view(flat.shape[0], self.num_layers, self.hidden_size).transpose(0, 1).contiguous()

    def _flat(self, layered: Tensor) -> Tensor:
        """nn.LSTM's ``(L, B, H)`` → ``(B, L·H)``."""
        return layered[0] if self.num_layers == 1 else layered.transpose(0, 1).reshape(layered.shape[1], -1)

    def _check_tokens(self, tokens: Tensor, ndim: int) -> Tensor:
        if not isinstance(tokens, Tensor) or tokens.dtype != torch.long:
            kind = tokens.dtype if isinstance(tokens, Tensor) else type(tokens).__name__
            raise TypeError(f"tokens must be an int64 torch tensor (torch.as_tensor(x, dtype=torch.long)), got {kind}")
        if tokens.ndim != ndim:
            want = "(B,)" if ndim == 1 else "(B, T)"
            raise ValueError(f"tokens must have shape {want}, got {tuple(tokens.shape)}")
        return tokens

    def _check_state(self, state: LSTMState | None, batch_size: int) -> LSTMState:
        if state is None:
            return self.initial_state(batch_size)
        h, c = state
        want = (batch_size, self.num_layers * self.hidden_size)
        if tuple(h.shape) != want or tuple(c.shape) != want:
            raise ValueError(f"state (h, c) must be two {want} tensors, got {tuple(h.shape)} and {tuple(c.shape)}")
        return h, c


__all__ = ["LSTMConfig", "LSTMPrior", "LSTMState", "lstm_cell", "lstm_head_step", "tanh"]
