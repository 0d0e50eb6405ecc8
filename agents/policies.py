"""Recurrent value networks and the policies they define (docs/spec.md §5, Eq. 5, 12, 14).

The Q network (its values are Q, Ψ or G depending on the algorithm) is a copy of the Note RNN,
initialised from its weights; the target network is another copy, soft-updated; the Reward RNN is the
Note RNN itself, frozen (``requires_grad`` off, never given to the optimiser), which gives log p(·|s)
to G-learning's target and policy and to the KL diagnostics.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from agents.step import native
from agents.step.stacked import Layout, bind, flatten, ordered_parameters
from melody_env.note_rnn import NoteRNN, NoteRNNConfig
from sequence_env.lstm import lstm_head_step

ALGORITHMS = ("q", "psi", "g", "rl_only")


def check_algorithm(algorithm: str) -> str:
    """Return ``algorithm`` if it names one of :data:`ALGORITHMS`, else raise ``ValueError``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS} (Eq. 4, 11, 13, RL-only), got {algorithm!r}")
    return algorithm


def policy_logits(algorithm: str, values: Tensor, log_prior: Tensor | None) -> Tensor:
    """Logits whose softmax is the agent's stochastic policy and whose argmax is its greedy action.

    Q and RL-only: ``Q`` (greedy policy Eq. 5; softmax at temperature 1 for sampling, docs/spec.md §7).
    Ψ: ``Ψ`` (π ∝ exp Ψ, Eq. 12). G: ``G + log p`` (π ∝ p · exp G, Eq. 14).

    :param algorithm: one of :data:`ALGORITHMS`.
    :param values: (B, A) network outputs.
    :param log_prior: (B, A) log p(·|s) from the Reward RNN (needed for ``"g"`` only).
    """
    if algorithm == "g":
        if log_prior is None:
            raise ValueError("G-learning's policy needs log p(·|s) from the Reward RNN (Eq. 14)")
        return values + log_prior
    return values


def kl_and_entropy(logits: Tensor, log_prior: Tensor) -> tuple[Tensor, Tensor]:
    """Per-row KL[π(·|s) ‖ p(·|s)] and entropy H[π(·|s)] of the policy ``π = softmax(logits)``.

    Falling entropy and rising KL reveal a policy collapsing onto one melody.

    :param logits: (B, A) policy logits. :param log_prior: (B, A) log p(·|s).
    :return: ``(kl (B,), entropy (B,))``.
    """
    log_pi = torch.log_softmax(logits, dim=-1)
    pi = log_pi.exp()
    return (pi * (log_pi - log_prior)).sum(-1), -(pi * log_pi).sum(-1)


class TunerNetworks(nn.Module):
    """The three networks of RL Tuner (paper Fig. 1): Q network, target network, frozen Reward RNN.

    The Reward RNN takes no gradient and is not in the optimiser, for every algorithm: G-learning uses
    log p only in its target and policy (Eq. 13-14). (The original let G's gradients reach it, docs/spec.md §6.)

    :param note_rnn: the pretrained Note RNN; it is copied three times and not modified.
    """

    def __init__(self, note_rnn: NoteRNN) -> None:
        super().__init__()
        self.q_net = copy.deepcopy(note_rnn).train()
        self.target_net = copy.deepcopy(note_rnn).eval().requires_grad_(False)
        self.reward_rnn = copy.deepcopy(note_rnn).eval().requires_grad_(False)
        self.q_net.requires_grad_(False)  # gradients are written by hand (agents.step.update), never by autograd
        self.layout = Layout.of(self.q_net)
        self.bind(flatten(self.q_net), flatten(self.target_net))

    def bind(self, theta: Tensor, target: Tensor) -> None:
        """Make ``theta (P,)`` and ``target (P,)`` (holding the current weights) the networks' storage.

        A population (:mod:`agents.population`) binds each member to one row of its stacked tensors.
        """
        self.theta, self.target = theta, target
        bind(self.q_net, theta, self.layout)
        bind(self.target_net, target, self.layout)
        self.q_params = ordered_parameters(self.q_net)

    @property
    def config(self) -> NoteRNNConfig:
        """The Note RNN config shared by the three networks."""
        return self.q_net.config

    @torch.no_grad()
    def values(self, notes: Tensor, state: tuple[Tensor, Tensor] | None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One recurrent step of the online network: values (B, A) of the state (previous note, LSTM state)."""
        h, c = self.q_net.initial_state(notes.shape[0]) if state is None else state
        if native.enabled():  # the same numbers to float rounding, in about 60 % of the time at 1,000 melodies
            values, (h1, c1) = native.step_values(self.theta[None], notes[None], h[None], c[None])
            return values[0], (h1[0], c1[0])
        return lstm_head_step(self.q_params, notes, h, c)

    @torch.no_grad()
    def log_prior(self, reward_h: Tensor) -> Tensor:
        """log p(·|s) (B, A) from the Reward RNN's hidden state (the env's observation ``"h"``)."""
        return torch.log_softmax(self.reward_rnn.output(reward_h), dim=-1)


__all__ = ["ALGORITHMS", "TunerNetworks", "check_algorithm", "kl_and_entropy", "policy_logits"]
