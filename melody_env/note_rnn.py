"""The Note RNN: one LSTM layer over one-hot notes, predicting the next note (docs/spec.md §3).

The same weights are the pretrained melody model, the Reward RNN (frozen, giving log p(a|s) in the
reward of Eq. 3) and the initial Q / target networks. ``forward`` runs whole sequences (training,
through ``nn.LSTM``); ``step`` advances any number of melodies by one note (sampling, composing,
the agents) with :func:`lstm_head_step` on the same weights. ``step`` matches ``forward`` to float
rounding (about 1e-7) and is differentiable when grad is enabled.

:func:`tanh` computes tanh as ``2·σ(2x) − 1``. Why by hand: torch 2.13's CPU ``tanh`` measured about
five times slower than its ``sigmoid`` here (12,800 floats, one thread: 140 µs against 26 µs), which
made tanh the largest single cost of composing melodies and of the tuners' gradient step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from melody_env.checkpoint import CheckpointError, load_checkpoint, load_state_dict_strict, save_checkpoint
from melody_env.sampling import sample_logits
from melody_env.threads import DEFAULT_TORCH_THREADS, torch_threads
from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES

KIND = "note_rnn"
FORMAT_VERSION = 1
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "note_rnn"

State = tuple[torch.Tensor, torch.Tensor]


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) as ``2·σ(2x) − 1``: equal to ``torch.tanh`` within 2e-7, several times faster on a CPU (module docs)."""
    return torch.sigmoid(x * 2.0).mul(2.0).sub_(1.0)


def lstm_head_step(
    params: Sequence[torch.Tensor], notes: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor
) -> tuple[torch.Tensor, State]:
    """One LSTM step and the output layer on ``notes (B,)`` from ``(h0, c0)`` each ``(B, H)``: ``(out (B, A), (h, c))``.

    The input weights are gathered by note (``index_select``) rather than multiplied by a one-hot
    batch, which at thousands of melodies saves a quarter of the arithmetic.

    :param params: ``lstm.weight_ih_l0 (4H, A)``, ``lstm.weight_hh_l0``, ``lstm.bias_ih_l0``,
        ``lstm.bias_hh_l0``, ``head.weight (A, H)``, ``head.bias``; PyTorch's gate order (input, forget,
        cell, output).
    """
    w_ih, w_hh, b_ih, b_hh, w_o, b_o = params
    hidden = w_hh.shape[1]
    table = (w_ih.t() + (b_ih + b_hh)).contiguous()  # (A, 4H) row-major: a row gather reads one block
    inputs = table.index_select(0, notes)  # (B, 4H): W_ih one_hot(x) + b
    gates = torch.addmm(inputs, h0, w_hh.t())
    sig = torch.sigmoid(gates)
    c1 = torch.addcmul(sig[:, hidden : 2 * hidden] * c0, sig[:, :hidden], tanh(gates[:, 2 * hidden : 3 * hidden]))
    h1 = sig[:, 3 * hidden :] * tanh(c1)
    return torch.addmm(b_o, h1, w_o.t()), (h1, c1)


@dataclass(frozen=True)
class NoteRNNConfig:
    """Shape of the Note RNN (docs/spec.md §3: one-hot 38 in, one LSTM layer of 100 cells, 38 logits out).

    :param num_classes: size of the note vocabulary (``reward_rules.tokens.NUM_CLASSES``).
    :param hidden_size: LSTM cells.
    """

    num_classes: int = NUM_CLASSES
    hidden_size: int = 100

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"NoteRNNConfig.{f.name} must be a positive int, got {value!r}")


class NoteRNN(nn.Module):
    """LSTM next-note model: ``logits(a | notes so far) = Linear(LSTM(one_hot(previous note)))``.

    :param config: sizes; the default is the paper's (38 classes, 100 cells).
    """

    def __init__(self, config: NoteRNNConfig | None = None) -> None:
        super().__init__()
        self.config = config or NoteRNNConfig()
        self.lstm = nn.LSTM(self.config.num_classes, self.config.hidden_size, batch_first=True)
        self.head = nn.Linear(self.config.hidden_size, self.config.num_classes)
        self.register_buffer("one_hot", torch.eye(self.config.num_classes), persistent=False)  # row k: note k

    # ----------------------------------------------------------------------------------- running
    def initial_state(self, batch_size: int) -> State:
        """Zero LSTM state ``(h, c)``, each ``(batch_size, hidden_size)``."""
        weight = self.head.weight
        zeros = torch.zeros(batch_size, self.config.hidden_size, dtype=weight.dtype, device=weight.device)
        return zeros, zeros.clone()

    def output(self, h: torch.Tensor) -> torch.Tensor:
        """Logits of the next note from LSTM outputs ``h`` (``(..., H)`` → ``(..., 38)``), the output layer alone."""
        return self.head(h)

    def forward(self, notes: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Run whole sequences.

        :param notes: ``(B, T)`` int64 classes; ``logits[:, t]`` predicts the note after ``notes[:, t]``.
        :param state: ``(h, c)`` each ``(B, H)`` to start from; zeros when ``None``.
        :return: ``(logits (B, T, 38), (h, c))`` with the state after the last note.
        """
        notes = self._check_notes(notes, 2)
        state = self._check_state(state, notes.shape[0])
        x = F.one_hot(notes, self.config.num_classes).to(self.head.weight.dtype)  # (B, T, 38)
        out, (h, c) = self.lstm(x, (state[0].unsqueeze(0), state[1].unsqueeze(0)))  # (B, T, H)
        return self.head(out), (h[0], c[0])

    def step(self, notes: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Advance each melody by one note: the same numbers as ``forward`` on a length-1 sequence.

        :param notes: ``(B,)`` int64, the note each melody just played.
        :param state: ``(h, c)`` each ``(B, H)``; zeros when ``None``.
        :return: ``(logits (B, 38), (h, c))``, the logits for the next note and the new state.
        """
        notes = self._check_notes(notes, 1)
        state = self._check_state(state, notes.shape[0])
        lstm, head = self.lstm, self.head
        params = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, head.weight, head.bias)
        return lstm_head_step(params, notes, *state)

    # ---------------------------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(
        self,
        n: int,
        length: int = 32,
        primer: torch.Tensor | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        with_log_prob: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Compose ``n`` melodies at once.

        :param n: number of melodies.
        :param length: notes per melody.
        :param primer: notes fed before composing, not part of the output: ``(n,)`` one note per
            melody, ``(n, P)`` a sequence each (e.g. from :func:`primer_from_file`), or ``None`` for one
            random note onset per melody, uniform over classes 2..37, drawn from ``generator``.
        :param temperature: softmax temperature; ``0`` picks the most likely note (greedy).
        :param generator: torch random generator for reproducible draws.
        :param with_log_prob: also return log p(a_t|s_t) of each drawn note under this network at
            temperature 1 (what Table 1's mean log p needs, without a second pass).
        :return: ``(n, length)`` int64 classes; with ``with_log_prob``, also ``(n, length)`` float32 log p.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive int, got {length!r}")
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature!r}")
        device = self.head.weight.device
        if primer is None:
            primer = torch.randint(FIRST_PITCH_CLASS, self.config.num_classes, (n,), generator=generator)
        primer = torch.as_tensor(primer).to(device)
        if primer.ndim == 1:
            primer = primer.unsqueeze(1)
        if primer.ndim != 2 or primer.shape[0] != n or primer.shape[1] < 1:
            raise ValueError(f"primer must be (n,) or (n, P) with n={n} and P >= 1, got shape {tuple(primer.shape)}")
        state = None
        for t in range(primer.shape[1]):
            logits, state = self.step(primer[:, t], state)
        out = torch.empty(n, length, dtype=torch.long, device=device)
        log_p = torch.empty(n, length, device=device) if with_log_prob else None
        for t in range(length):
            note = out[:, t] = sample_logits(logits, temperature, generator)
            if log_p is not None:
                log_p[:, t] = torch.log_softmax(logits, 1).gather(1, note[:, None])[:, 0]
            if t + 1 < length:
                logits, state = self.step(note, state)
        return out if log_p is None else (out, log_p)

    # ------------------------------------------------------------------------------- checkpoints
    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> Path:
        """Write ``path.safetensors`` + ``path.json`` atomically (see :mod:`melody_env.checkpoint`).

        :param path: checkpoint name, with or without the ``.safetensors`` / ``.json`` suffix.
        :param metadata: optional JSON-serialisable facts stored beside the config.
        :return: the JSON path.
        """
        return save_checkpoint(path, self.state_dict(), asdict(self.config), KIND, FORMAT_VERSION, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> NoteRNN:
        """Read a checkpoint written by :meth:`save`, in eval mode.

        Runs on one torch thread whatever the global setting (:func:`melody_env.threads.torch_threads`):
        a parallel region here would create the OpenMP pool, and a process that has one cannot fork
        workers that use torch (they deadlock in their first parallel region).

        :raises CheckpointError: missing or damaged files, another kind or format version, a config
            this class does not accept, or tensors that do not fit the config.
        """
        with torch_threads(DEFAULT_TORCH_THREADS):
            checkpoint = load_checkpoint(path, KIND, FORMAT_VERSION)
            try:
                config = NoteRNNConfig(**checkpoint.config)
            except (TypeError, ValueError) as exc:
                raise CheckpointError(f"checkpoint {path} has an invalid Note RNN config: {exc}") from exc
            model = cls(config)
            load_state_dict_strict(model, checkpoint.tensors, path)
        return model.eval()

    # ------------------------------------------------------------------------------------ checks
    def _check_notes(self, notes: torch.Tensor, ndim: int) -> torch.Tensor:
        if not isinstance(notes, torch.Tensor) or notes.dtype != torch.long:
            kind = notes.dtype if isinstance(notes, torch.Tensor) else type(notes).__name__
            raise TypeError(f"notes must be an int64 torch tensor (torch.as_tensor(x, dtype=torch.long)), got {kind}")
        if notes.ndim != ndim:
            want = "(B,)" if ndim == 1 else "(B, T)"
            raise ValueError(f"notes must have shape {want}, got {tuple(notes.shape)}")
        return notes

    def _check_state(self, state: State | None, batch_size: int) -> State:
        if state is None:
            return self.initial_state(batch_size)
        h, c = state
        want = (batch_size, self.config.hidden_size)
        if tuple(h.shape) != want or tuple(c.shape) != want:
            raise ValueError(f"state (h, c) must be two {want} tensors, got {tuple(h.shape)} and {tuple(c.shape)}")
        return h, c


def primer_from_file(
    path: str | os.PathLike, n: int = 1, max_steps: int | None = None, transpose: bool = True
) -> torch.Tensor:
    """Notes of a MIDI or ABC file as a primer for :meth:`NoteRNN.sample`, repeated for ``n`` melodies.

    :param path: the file (read with :func:`melody_env.encoding.read_melody`, its first melody).
    :param n: number of melodies to prime.
    :param max_steps: keep only the last ``max_steps`` steps (``None``: all).
    :param transpose: transpose to C major / A minor first, as the training corpus is (docs/spec.md §2).
    :return: ``(n, P)`` int64.
    """
    from melody_env.encoding import read_melody  # music21 is heavy: imported only when a file is read

    melody = torch.as_tensor(read_melody(path, transpose=transpose), dtype=torch.long)
    if max_steps is not None:
        melody = melody[-max_steps:]
    if melody.numel() == 0:
        raise ValueError(f"{path} holds no melody steps to prime with; choose a file with a monophonic melody")
    return melody.unsqueeze(0).repeat(n, 1)


def load_default_note_rnn() -> NoteRNN:
    """The shipped Note RNN (``melody_env/checkpoints/note_rnn.*``, see its MODEL_CARD.md), in eval mode.

    Read on one torch thread, as :meth:`NoteRNN.load`.
    """
    return NoteRNN.load(DEFAULT_CHECKPOINT)


__all__ = [
    "DEFAULT_CHECKPOINT",
    "FORMAT_VERSION",
    "KIND",
    "NoteRNN",
    "NoteRNNConfig",
    "State",
    "load_default_note_rnn",
    "primer_from_file",
]
