"""The recurrent actor-critic of :class:`agents.KLPPO`: the prior as the actor, a small detached value head.

The actor is a copy of the prior, initialised from its weights (as the Q network is, paper Fig. 1):
its logits are the policy's, so before training π = p exactly and the KL to the prior is 0. The prior
is another copy, frozen (no gradient, not in the optimiser); only its output runs, on the env's
Reward RNN state (the observation's state parts), to give log p(·|s) for the KL diagnostics.

The value head is a separate small MLP on the actor's first state part (an LSTM's output h),
*detached*, and the token's position in the episode (one-hot). Detached, the value loss never moves the
prior's weights: the actor changes only through the policy gradient, one recurrent pass still serves
both heads, and no value-loss weight has to be balanced against the policy loss on shared weights. The
position is an input because the return-to-go of an episode depends on how many tokens are left,
which the recurrent state only implies. The head predicts returns standardised by the statistics of
the latest rollout, and a change of statistics rescales its output layer so that its predictions in
reward units stay the same (PopArt's "preserving outputs", van Hasselt et al. 2016): returns of Eq. 9
with c = 0.5 start near −700 per melody, far from an untrained head's outputs.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agents.step.stacked import is_fast_lstm

State = tuple[Tensor, ...]
MIN_VALUE_STD = 1e-3


class KLActorCritic(nn.Module):
    """Actor (the prior's network), value head, frozen prior.

    :param prior: the pretrained prior (:mod:`sequence_env.prior`); copied twice, not modified.
    :param max_length: tokens per episode T (the value head's position input has T entries).
    :param value_hidden: units of the value head's hidden layer.
    """

    def __init__(self, prior: nn.Module, max_length: int, value_hidden: int = 64) -> None:
        super().__init__()
        self.actor = copy.deepcopy(prior).cpu().train().requires_grad_(True)
        self.prior = copy.deepcopy(prior).cpu().eval().requires_grad_(False)
        self.max_length = max_length
        features = self.actor.initial_state(1)[0].shape[1]
        self.critic = nn.Sequential(
            nn.Linear(features + max_length, value_hidden), nn.Tanh(), nn.Linear(value_hidden, 1)
        )
        self.register_buffer("value_mean", torch.zeros(()))
        self.register_buffer("value_std", torch.ones(()))
        self.register_buffer("value_updates", torch.zeros((), dtype=torch.long))

    @property
    def vocab_size(self) -> int:
        """Actions (tokens) of the prior."""
        return self.actor.vocab_size

    @property
    def reward_rnn(self) -> nn.Module:
        """The frozen prior (named as the tuners' Reward RNN, for :mod:`agents.inference`)."""
        return self.prior

    def initial_state(self, batch_size: int) -> State:
        """The actor's state before the first token."""
        return tuple(self.actor.initial_state(batch_size))

    # ------------------------------------------------------------------------------------- acting
    @torch.no_grad()
    def values(self, tokens: Tensor, state: State | None) -> tuple[Tensor, State]:
        """One actor step: the policy logits ``(B, V)`` after ``tokens`` ``(B,)`` from ``state``, and the new state.

        Named as the Q network's step, so :mod:`agents.inference` composes and predicts with the policy
        (π = softmax(logits), greedy = argmax) exactly as it does for Q.
        """
        logits, new_state = self.actor.step(tokens, state)
        return logits, tuple(new_state)

    @torch.no_grad()
    def log_prior(self, prior_state: State | Tensor) -> Tensor:
        """log p(·|s) ``(B, V)`` from the env's Reward RNN state (the observation's state parts)."""
        return torch.log_softmax(self.prior.output(prior_state), dim=-1)

    @torch.no_grad()
    def act(self, tokens: Tensor, state: State | None, positions: Tensor) -> tuple[Tensor, Tensor, State]:
        """Rollout step: ``(logits (B, V), value in reward units (B,), new state)``.

        :param tokens: ``(B,)`` the token just played. :param state: the actor's state before it.
        :param positions: ``(B,)`` index t of the token about to be chosen.
        """
        logits, new_state = self.actor.step(tokens, state)
        return logits, self._to_reward_units(self._value_head(new_state[0], positions)), tuple(new_state)

    # ------------------------------------------------------------------------------------ training
    def evaluate(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """Run whole episodes from the initial state: ``(logits (B, T, V), standardised values (B, T))``.

        A one-layer LSTM runs as ``nn.LSTM`` over the sequence; any other prior one ``step`` at a time.

        :param tokens: ``(B, T)`` inputs: the primer's last token, then the episode's tokens but the last.
        """
        positions = torch.arange(tokens.shape[1]).expand(tokens.shape[0], -1)
        if is_fast_lstm(self.actor):
            x = F.one_hot(tokens, self.vocab_size).to(self.actor.head.weight.dtype)  # (B, T, V)
            out, _ = self.actor.lstm(x)  # (B, T, H)
            return self.actor.head(out), self._value_head(out, positions)
        state, logits, features = None, [], []
        for t in range(tokens.shape[1]):
            step_logits, state = self.actor.step(tokens[:, t], state)
            logits.append(step_logits)
            features.append(state[0])
        return torch.stack(logits, 1), self._value_head(torch.stack(features, 1), positions)

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
        position = F.one_hot(positions.clamp(max=self.max_length - 1), self.max_length).to(h.dtype)
        return self.critic(torch.cat([h.detach(), position], dim=-1)).squeeze(-1)

    def _to_reward_units(self, standardised: Tensor) -> Tensor:
        return self.value_mean + self.value_std * standardised


__all__ = ["MIN_VALUE_STD", "KLActorCritic"]
