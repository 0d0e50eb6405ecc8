"""Recurrent value networks and the policies they define (docs/spec.md §5, Eq. 5, 12, 14).

The Q network (its values are Q, Ψ or G depending on the algorithm) is a copy of the prior,
initialised from its weights; the target network is another copy, soft-updated; the Reward RNN is the
prior itself, frozen (``requires_grad`` off, never given to the optimiser), which gives log p(·|s)
to G-learning's target and policy and to the KL diagnostics.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from agents.step import native
from agents.step.stacked import Layout, bind, flatten, is_fast_lstm, ordered_parameters
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
    """The three networks of RL Tuner (paper Fig. 1): Q network, target network, frozen Reward RNN (the prior).

    The Reward RNN takes no gradient and is not in the optimiser, for every algorithm: G-learning uses
    log p only in its target and policy (Eq. 13-14). (The original let G's gradients reach it, docs/spec.md §6.)

    :param prior: the pretrained prior (:mod:`sequence_env.prior`); it is copied three times and not modified.
    :param compiled: run a one-layer LSTM's steps compiled (:mod:`agents.step.native`): ``None`` where it is
        built (and ``RL_TUNER_NATIVE`` is not ``0``), ``True`` (an error if it cannot be built), ``False`` never.
        Other priors always run torch's own step and autograd.
    """

    def __init__(self, prior: nn.Module, compiled: bool | None = None) -> None:
        super().__init__()
        self.q_net = copy.deepcopy(prior).cpu().train()
        self.target_net = copy.deepcopy(prior).cpu().eval().requires_grad_(False)
        self.reward_rnn = copy.deepcopy(prior).cpu().eval().requires_grad_(False)
        self.q_net.requires_grad_(False)  # gradients are computed into the flat buffer (agents.step), not .grad
        self.fast_lstm = is_fast_lstm(self.q_net)
        self.compiled = native.use_compiled(compiled, self.fast_lstm)
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
    def vocab_size(self) -> int:
        """Actions (tokens) of the prior."""
        return self.q_net.vocab_size

    def initial_state(self, batch_size: int) -> tuple[Tensor, ...]:
        """The Q network's state before the first token."""
        return tuple(self.q_net.initial_state(batch_size))

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """The size of each part of the Q network's state."""
        return tuple(part.shape[1] for part in self.q_net.initial_state(1))

    @torch.no_grad()
    def values(self, tokens: Tensor, state: tuple[Tensor, ...] | None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One recurrent step of the online network: values (B, A) of the state (previous token, its state)."""
        state = self.initial_state(tokens.shape[0]) if state is None else tuple(state)
        if not self.fast_lstm:
            values, new_state = self.q_net.step(tokens, state)
            return values, tuple(new_state)
        h, c = state
        if self.compiled:  # the same numbers to float rounding, in about 60 % of the time at 1,000 melodies
            values, (h1, c1) = native.step_values(self.theta[None], tokens[None], h[None], c[None])
            return values[0], (h1[0], c1[0])
        return lstm_head_step(self.q_params, tokens, h, c)

    @torch.no_grad()
    def log_prior(self, prior_state: tuple[Tensor, ...] | Tensor) -> Tensor:
        """log p(·|s) (B, A) from the Reward RNN's state (the env's observation parts, e.g. ``h`` and ``c``)."""
        return torch.log_softmax(self.reward_rnn.output(prior_state), dim=-1)


__all__ = ["ALGORITHMS", "TunerNetworks", "check_algorithm", "kl_and_entropy", "policy_logits"]
