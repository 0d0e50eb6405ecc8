"""The gradient step for any prior: torch's own autograd through the prior's ``step`` (docs/spec.md §5, §10).

The same step as :func:`agents.step.update.gradient_step`: the value of the action taken after one
recurrent step from the stored state (no backpropagation through time) regresses onto its target
(Eq. 4, 11, 13), the gradient is clipped, Adam moves the weights and the target network follows by
``lerp``. The network is any prior of the protocol (:mod:`sequence_env.prior`): its parameters are the
views of one row of the ``(K, P)`` stack (:mod:`agents.step.stacked`), run through
``torch.func.functional_call`` on the prior's ``step``, one member at a time; the K members' losses
are independent, so one backward pass of their sum gives each its own gradient. The hand-written and
compiled steps are faster for the one-layer LSTM they are written for; on it this step gives their
numbers to float rounding (tested).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import functional_call

from agents.step.stacked import Layout
from agents.step.update import Stack, StepSettings, clip_gradients, td_targets


class PriorStep(nn.Module):
    """``forward(tokens, state) = prior.step(tokens, state)``, so ``functional_call`` can run the step."""

    def __init__(self, prior: nn.Module) -> None:
        super().__init__()
        self.prior = prior

    def forward(self, tokens: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        logits, new_state = self.prior.step(tokens, state)
        return logits, tuple(new_state)


def named_views(flat: Tensor, layout: Layout) -> dict[str, Tensor]:
    """``{"prior.<name>": view}`` of one network's parameters in its row ``flat (P,)``."""
    return {
        f"prior.{name}": flat[offset : offset + size].view(shape)
        for name, shape, offset, size in zip(layout.names, layout.shapes, layout.offsets, _sizes(layout), strict=True)
    }


def _sizes(layout: Layout) -> list[int]:
    ends = [*layout.offsets[1:], layout.size]
    return [end - start for start, end in zip(layout.offsets, ends, strict=True)]


def autograd_gradient_step(
    stack: Stack, settings: StepSettings, batch: tuple[Tensor | None, ...], step: PriorStep
) -> Tensor:
    """One gradient step of K agents on ``(y − V(s, a; θ))²``, then θ⁻ ← lerp(θ⁻, θ, η).

    :param stack: the agents' tensors, updated in place. :param step: the prior's step, with any weights.
    :param batch: ``(token, *state, action, log_prior, reward_terms, done, next_log_prior)`` with leading dims
        ``(K, B)`` (:meth:`agents.buffer.ReplayBatch.flat`); ``next_log_prior`` may be ``None`` without G.
    :return: ``(K, 3)``: loss, gradient norm before clipping and mean value of the actions taken.
    """
    token, *state, action, log_prior, reward_terms, done, next_log_prior = batch
    layout, k_members = stack.layout, stack.theta.shape[0]
    theta = stack.theta.detach().clone().requires_grad_(True)
    values, next_values = [], []
    with torch.enable_grad():
        for k in range(k_members):
            logits, new_state = functional_call(
                step, named_views(theta[k], layout), (token[k], tuple(s[k] for s in state))
            )
            values.append(logits.gather(1, action[k, :, None])[:, 0])  # V(s, a)
            with torch.no_grad():
                target = named_views(stack.target[k], layout)
                detached = tuple(part.detach() for part in new_state)
                next_values.append(functional_call(step, target, (action[k], detached))[0])  # (B, A) at s'
        value = torch.stack(values)  # (K, B)
        y = td_targets(settings, log_prior, reward_terms, torch.stack(next_values), next_log_prior, done)
        error = value - y
        loss = error.square().mean(-1)  # (K,)
        (grad,) = torch.autograd.grad(loss.sum(), theta)
    with torch.no_grad():
        stack.grad.copy_(grad)
        norm = clip_gradients(stack.grad, layout, settings)
        stack.adam_step(settings)
        stack.target.lerp_(stack.theta, settings.tau)
        return torch.stack([loss.detach(), norm, value.detach().mean(-1)], 1)


__all__ = ["PriorStep", "autograd_gradient_step", "named_views"]
