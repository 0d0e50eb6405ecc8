"""The recurrent actor-critic of :class:`agents.KLPPO`: the Note RNN as the actor, a small detached value head.

The actor is a copy of the Note RNN, initialised from its weights (as the Q network is, paper Fig. 1):
its logits are the policy's, so before training π = p exactly and the KL to the prior is 0. The prior
is another copy, frozen (no gradient, not in the optimiser); only its output layer runs, on the env's
Reward RNN state (observation ``"h"``), to give log p(·|s) for the KL diagnostics.

The value head is a separate small MLP on the actor's LSTM output, *detached*, and the note's position
in the melody (one-hot). Detached, the value loss never moves the Note RNN's weights: the actor changes
only through the policy gradient, one LSTM pass still serves both heads, and no value-loss weight has
to be balanced against the policy loss on shared weights. The position is an input because the
return-to-go of a fixed-length melody depends on how many notes are left, which the LSTM state only
implies. The head predicts returns standardised by the statistics of the latest rollout, and a change
of statistics rescales its output layer so that its predictions in reward units stay the same
(PopArt's "preserving outputs", van Hasselt et al. 2016): returns of Eq. 9 with c = 0.5 start near
−700 per melody, far from an untrained head's outputs.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from melody_env.note_rnn import NoteRNN, NoteRNNConfig

State = tuple[Tensor, Tensor]
MIN_VALUE_STD = 1e-3


class KLActorCritic(nn.Module):
    """Actor (the Note RNN's network), value head, frozen prior.

    :param note_rnn: the pretrained Note RNN; copied twice, not modified.
    :param melody_length: notes per melody T (the value head's position input has T entries).
    :param value_hidden: units of the value head's hidden layer.
    """

    def __init__(self, note_rnn: NoteRNN, melody_length: int, value_hidden: int = 64) -> None:
        super().__init__()
        self.actor = copy.deepcopy(note_rnn).cpu().train().requires_grad_(True)
        self.prior = copy.deepcopy(note_rnn).cpu().eval().requires_grad_(False)
        self.melody_length = melody_length
        hidden = note_rnn.config.hidden_size
        self.critic = nn.Sequential(
            nn.Linear(hidden + melody_length, value_hidden), nn.Tanh(), nn.Linear(value_hidden, 1)
        )
        self.register_buffer("value_mean", torch.zeros(()))
        self.register_buffer("value_std", torch.ones(()))
        self.register_buffer("value_updates", torch.zeros((), dtype=torch.long))

    @property
    def config(self) -> NoteRNNConfig:
        """The Note RNN's sizes."""
        return self.actor.config

    # ------------------------------------------------------------------------------------- acting
    @torch.no_grad()
    def values(self, notes: Tensor, state: State | None) -> tuple[Tensor, State]:
        """One actor step: the policy logits ``(B, 38)`` after ``notes`` ``(B,)`` from ``state``, and the new state.

        Named as the Q network's step, so :mod:`agents.inference` composes and predicts with the policy
        (π = softmax(logits), greedy = argmax) exactly as it does for Q.
        """
        return self.actor.step(notes, state)

    @torch.no_grad()
    def log_prior(self, reward_h: Tensor) -> Tensor:
        """log p(·|s) ``(B, 38)`` from the env's Reward RNN output ``"h"`` ``(B, H)``."""
        return torch.log_softmax(self.prior.output(reward_h), dim=-1)

    @torch.no_grad()
    def act(self, notes: Tensor, state: State | None, positions: Tensor) -> tuple[Tensor, Tensor, State]:
        """Rollout step: ``(logits (B, 38), value in reward units (B,), new state)``.

        :param notes: ``(B,)`` the note just played. :param state: the actor's ``(h, c)`` before it.
        :param positions: ``(B,)`` index t of the note about to be chosen.
        """
        logits, (h, c) = self.actor.step(notes, state)
        return logits, self._to_reward_units(self._value_head(h, positions)), (h, c)

    # ------------------------------------------------------------------------------------ training
    def evaluate(self, notes: Tensor) -> tuple[Tensor, Tensor]:
        """Run whole melodies from the zero state: ``(logits (B, T, 38), standardised values (B, T))``.

        :param notes: ``(B, T)`` inputs: the primer's last note, then the melody's notes but the last.
        """
        x = F.one_hot(notes, self.config.num_classes).to(self.actor.head.weight.dtype)  # (B, T, 38)
        out, _ = self.actor.lstm(x)  # (B, T, H)
        positions = torch.arange(notes.shape[1]).expand(notes.shape[0], -1)
        return self.actor.head(out), self._value_head(out, positions)

    def standardise(self, returns: Tensor) -> Tensor:
        """Returns in the value head's units (standardised with the current statistics)."""
        return (returns - self.value_mean) / self.value_std

    @torch.no_grad()
    def update_value_statistics(self, returns: Tensor) -> None:
        """Standardise the head's targets by the mean and std of ``returns``; its reward-unit outputs are kept.

        The first call only sets the statistics (the untrained head knows nothing worth keeping).
        """
        mean, std = returns.mean(), returns.std().clamp(min=MIN_VALUE_STD)
        if self.value_updates > 0:
            out = self.critic[-1]
            out.weight.mul_(self.value_std / std)
            out.bias.mul_(self.value_std).add_(self.value_mean - mean).div_(std)
        self.value_mean.copy_(mean)
        self.value_std.copy_(std)
        self.value_updates += 1

    def _value_head(self, h: Tensor, positions: Tensor) -> Tensor:
        position = F.one_hot(positions.clamp(max=self.melody_length - 1), self.melody_length).to(h.dtype)
        return self.critic(torch.cat([h.detach(), position], dim=-1)).squeeze(-1)

    def _to_reward_units(self, standardised: Tensor) -> Tensor:
        return self.value_mean + self.value_std * standardised


__all__ = ["MIN_VALUE_STD", "KLActorCritic"]
