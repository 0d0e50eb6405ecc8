"""The Note RNN: the melody instance of the LSTM prior (docs/spec.md §3): one-hot 38 notes in, 100 cells, 38 logits out.

The same weights are the pretrained melody model, the Reward RNN (frozen, giving log p(a|s) in the
reward of Eq. 3) and the initial Q / target networks. The network is :class:`sequence_env.lstm.LSTMPrior`
with one layer; this class adds the melody's vocabulary size, its checkpoint kind and sampling from a
random note onset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import torch

from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES
from sequence_env.lstm import LSTMPrior, LSTMState
from sequence_env.sampling import sample_logits

KIND = "note_rnn"
FORMAT_VERSION = 1
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "note_rnn"

State = LSTMState


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

    @property
    def vocab_size(self) -> int:
        """The prior protocol's name for ``num_classes``."""
        return self.num_classes

    @property
    def num_layers(self) -> int:
        """One LSTM layer."""
        return 1


class NoteRNN(LSTMPrior):
    """LSTM next-note model: ``logits(a | notes so far) = Linear(LSTM(one_hot(previous note)))``.

    :param config: sizes; the default is the paper's (38 classes, 100 cells).
    """

    KIND: ClassVar[str] = KIND
    FORMAT_VERSION: ClassVar[int] = FORMAT_VERSION
    CONFIG: ClassVar[type] = NoteRNNConfig
    DISPLAY_NAME: ClassVar[str] = "Note RNN"

    def __init__(self, config: NoteRNNConfig | None = None) -> None:
        super().__init__(config or NoteRNNConfig())

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
            primer = torch.randint(FIRST_PITCH_CLASS, self.vocab_size, (n,), generator=generator)
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
