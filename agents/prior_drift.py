"""G-learning's gradient reaching the Reward RNN, as in the original implementation (a compatibility switch).

``RLTuner("g", ..., g_trains_reward_rnn=True)``. By default the Reward RNN is frozen for every algorithm
(docs/spec.md §5). The original implementation instead let G-learning's loss reach the Reward RNN's
variables. The prior ``log p`` inside G's target (Eq. 13) and policy (Eq. 14) then drifted during training.

**What moves here.** The output layer ``(W, b)`` of the tuner's own copy of the Reward RNN
(``networks.reward_rnn.head``), through

    log p(·|s') = log_softmax(W h' + b)                                     (drifting_log_prior)

where h' is the Reward RNN's LSTM output at s'. The env computes h' (the observation ``"h"``) with its own
Reward RNN, which stays frozen. The LSTM weights therefore cannot move. The original also moved them,
through one LSTM step from the stored state. So the env's rewards (log p(a|s) for Q and Ψ) never drift;
only G's target and policy do. The rest of the step is unchanged. The loss is G's
``(y − G(s, a; θ))²`` with ``y = r + γ · log Σ_a′ exp(log p(a′|s′) + G⁻(s′, a′))``. Only ``y`` holds the prior.
So the gradient on ``z = W h′ + b`` is ``−2 (G − y) · γ · (π − p)``, averaged over the batch, with
``π = softmax(log p + G⁻)`` at s′.

**How.** With the switch on, the replay keeps h′ (``(H,)`` per transition) where it would keep log p(·|s′).
Before each gradient step, :meth:`PriorDrift.step` does three things:

- it computes log p(·|s′) from h′ with the current (W, b);
- it takes the loss's gradient with respect to (W, b) alone (autograd, θ and θ⁻ as they are before the
  step), clips it (``clip`` and ``max_grad_norm``, as for θ) and applies an Adam step of its own at the
  tuner's learning rate;
- it hands :func:`agents.step.update.gradient_step` the batch with the log p it used.

θ and the prior are thus updated from one forward pass, as in the original's single optimiser. The prior's
Adam moments are not saved; a reloaded tuner restarts them. A tuner with a drifted prior no longer matches
its env's Reward RNN: ``set_env`` and ``load(path, env=...)`` refuse it, so load it without an env to
compose and score. It trains alone: a :class:`~agents.population.Population` of several refuses it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from agents.step.stacked import head, is_fast_lstm, lstm_step, one_hot
from agents.step.update import Stack, StepSettings, td_targets
from sequence_env.lstm import LSTMPrior


def drifting_log_prior(weight: Tensor, bias: Tensor, next_h: Tensor) -> Tensor:
    """``log p(·|s') = log_softmax(W h' + b)``: the prior from the Reward RNN's LSTM output h'.

    :param weight: ``(A, H)`` output layer W. :param bias: ``(A,)`` b.
    :param next_h: ``(..., H)`` h' at s' (the env's observation ``"h"``).
    :return: ``(..., A)``.
    """
    return torch.log_softmax(torch.nn.functional.linear(next_h, weight, bias), dim=-1)


def prior_loss(stack: Stack, settings: StepSettings, batch: tuple[Tensor, ...], next_log_prior: Tensor) -> Tensor:
    """G's TD loss ``mean (G(s, a; θ) − y)²`` over the ``(K, B)`` batch. Only ``next_log_prior`` carries gradient.

    :param stack: the agents' weights θ and target network θ⁻ (not modified).
    :param batch: :func:`agents.step.update.gradient_step`'s batch. Its last field (h′) is not read here.
    :param next_log_prior: ``(K, B, A)`` log p(·|s′) that enters the target (Eq. 13).
    """
    note, h0, cell0, action, log_prior, reward_terms, done, _ = batch
    num_classes = stack.params[0].shape[2]
    taken = one_hot(action, num_classes)
    with torch.no_grad():
        _, _, h1, cell1 = lstm_step(stack.params, one_hot(note, num_classes), h0, cell0)
        value = (head(stack.params, h1) * taken).sum(-1)  # (K, B): G(s, a; θ)
        _, _, next_h, _ = lstm_step(stack.target_params, taken, h1, cell1)
        next_values = head(stack.target_params, next_h)  # (K, B, A): G⁻(s′, ·)
    y = td_targets(settings, log_prior, reward_terms, next_values, next_log_prior, done)
    return (value - y).square().mean()


class PriorDrift:
    """The trainable output layer of a G tuner's Reward RNN copy and its optimiser (see the module docs).

    :param reward_rnn: the tuner's Reward RNN (``networks.reward_rnn``). Its output layer's values are updated
        in place; its parameters keep ``requires_grad`` off.
    :param learning_rate: the Adam step size at the start (each :meth:`step` takes the tuner's current one).
    """

    def __init__(self, reward_rnn: LSTMPrior, learning_rate: float) -> None:
        layer = reward_rnn.head
        # leaves sharing the layer's storage: Adam writes the layer, a loaded state dict reaches them
        self.weight = layer.weight.detach().requires_grad_(True)
        self.bias = layer.bias.detach().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.weight, self.bias], lr=learning_rate)
        self.column_width = reward_rnn.hidden_size
        """What the replay keeps per transition in log p(·|s′)'s place: h′, ``(H,)``."""

    def step(self, stack: Stack, settings: StepSettings, batch: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """Move (W, b) one Adam step down G's loss; return ``batch`` with log p(·|s′) in place of h′.

        :param stack: one agent's θ and θ⁻ (``K = 1``), before their gradient step.
        :param settings: the step's settings (γ, c, learning rate, clip, bootstrap_last_note).
        :param batch: :func:`agents.step.update.gradient_step`'s batch, with h′ ``(1, B, H)`` as its last field.
        """
        next_h = batch[-1]
        with torch.enable_grad():
            next_log_prior = drifting_log_prior(self.weight, self.bias, next_h)
            loss = prior_loss(stack, settings, batch, next_log_prior)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        params = [self.weight, self.bias]
        groups = [params] if settings.clip == "global" else [[p] for p in params]
        norms = [torch.nn.utils.clip_grad_norm_(group, settings.max_grad_norm) for group in groups]
        if all(torch.isfinite(n) for n in norms):  # a non-finite loss stops θ's training (Population._train)
            self.optimizer.param_groups[0]["lr"] = settings.learning_rate
            self.optimizer.step()
        return (*batch[:-1], next_log_prior.detach())


def make_prior_drift(algorithm: str, reward_rnn: LSTMPrior, learning_rate: float, on: bool) -> PriorDrift | None:
    """The switch ``g_trains_reward_rnn``: a :class:`PriorDrift` when ``on``, else ``None``.

    :raises ValueError: ``on`` for another algorithm than G (only G's target and policy hold the prior), or for
        a prior other than the one-layer LSTM of the original.
    """
    if not on:
        return None
    if not is_fast_lstm(reward_rnn):
        raise ValueError("g_trains_reward_rnn=True reproduces the original's one-layer LSTM; this prior is another")
    if algorithm != "g":
        raise ValueError(
            f"g_trains_reward_rnn=True applies to G-learning only (its target and policy hold the prior), got "
            f"algorithm {algorithm!r}; use RLTuner('g', ...) or leave the switch off"
        )
    return PriorDrift(reward_rnn, learning_rate)


__all__ = ["PriorDrift", "drifting_log_prior", "make_prior_drift", "prior_loss"]
