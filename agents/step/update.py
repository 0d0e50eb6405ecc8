"""The one-layer LSTM's gradient step for K agents at once: TD loss, hand-written backward, clip, Adam, soft update.

One step regresses the value of the action taken, ``V(s, a) = W_o[a] · h' + b_o[a]`` after one LSTM step
from the stored state (docs/spec.md §5: no backpropagation through time), onto its target (Eq. 4, 11,
13 in :mod:`agents.step.targets`). For K agents the K regressions are independent and share every tensor
operation: the parameters are rows of one ``(K, P)`` tensor (:mod:`agents.step.stacked`).

Why by hand: on a CPU the step is a few dozen small tensor operations, and their per-call overhead,
not arithmetic, set its cost. The backward pass is written out (a dozen operations, the numbers of
autograd on :meth:`sequence_env.lstm.LSTMPrior.step`, tested); the gradient is clipped by the global
norm of each agent's gradient; Adam is the kernel that ``torch.optim.Adam(fused=True)`` runs, called
on the flat tensor directly (the optimiser's Python wrapper cost three times the update itself,
measured); the target network moves by one ``lerp_``.

Training runs this step compiled (:mod:`agents.step.native`, the same numbers to float rounding, tested)
where a C++ compiler is found; this module is its reference, and the fallback.

Compatibility switches reproduce the original implementation where it differs (docs/spec.md §5-§6):
``clip="per_tensor"`` clips each parameter tensor's gradient to the norm separately, and
``bootstrap_last_note=True`` bootstraps from the state after the melody's last note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from agents.step.stacked import Layout, head, lstm_step, one_hot, split
from agents.step.targets import g_target, psi_target, q_target, td_reward
from sequence_env.lstm import tanh

CLIP_MODES = ("global", "per_tensor")


@dataclass
class AdamState:
    """Adam's moments ``(K, P)`` and one step counter per agent (as ``torch.optim.Adam`` keeps them)."""

    exp_avg: Tensor
    exp_avg_sq: Tensor
    steps: list[Tensor]  # K scalar float32 tensors

    @classmethod
    def zeros(cls, k: int, size: int) -> AdamState:
        """Fresh state for K agents of P parameters."""
        return cls(torch.zeros(k, size), torch.zeros(k, size), [torch.zeros(()) for _ in range(k)])

    def state_dict(self) -> dict[str, Tensor]:
        """Copies of the moments and the step count(s), keyed ``exp_avg``, ``exp_avg_sq``, ``step``."""
        return {
            "exp_avg": self.exp_avg.detach().clone(),
            "exp_avg_sq": self.exp_avg_sq.detach().clone(),
            "step": torch.stack(self.steps).clone(),
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Copy :meth:`state_dict` values into this state, in place (shapes must match)."""
        for name in ("exp_avg", "exp_avg_sq"):
            mine, given = getattr(self, name), state[name]
            if tuple(given.shape) != tuple(mine.shape):
                raise ValueError(f"Adam {name} has shape {tuple(given.shape)}, expected {tuple(mine.shape)}")
            mine.copy_(given)
        steps = torch.as_tensor(state["step"]).reshape(-1)
        if steps.numel() != len(self.steps):
            raise ValueError(f"Adam state has {steps.numel()} step counters, expected {len(self.steps)}")
        for mine, value in zip(self.steps, steps, strict=True):
            mine.copy_(value)


@dataclass
class StepSettings:
    """What one gradient step needs besides the tensors (docs/spec.md §6 defaults are the tuner's).

    :param algorithms: one of ``"q"``, ``"psi"``, ``"g"``, ``"rl_only"`` per agent.
    :param c: ``(K, 1)`` weight of the rules of each agent (Eq. 3: reward ``log p + rMT / c``).
    """

    algorithms: tuple[str, ...]
    c: Tensor
    gamma: float = 0.5
    tau: float = 0.01
    learning_rate: float = 1e-3
    max_grad_norm: float = 5.0
    clip: str = "global"
    bootstrap_last_note: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    _masks: dict[str, Tensor] = field(default_factory=dict, repr=False)

    def mask(self, algorithm: str) -> Tensor:
        """``(K, 1)`` True for the agents running ``algorithm``."""
        if algorithm not in self._masks:
            self._masks[algorithm] = torch.tensor([a == algorithm for a in self.algorithms]).unsqueeze(1)
        return self._masks[algorithm]


def td_targets(
    settings: StepSettings,
    log_prior: Tensor,
    reward_terms: Tensor,
    next_values: Tensor,
    next_log_prior: Tensor | None,
    done: Tensor,
) -> Tensor:
    """Targets ``y (K, B)`` of each agent's algorithm: Eq. 4 (Q, RL-only), Eq. 11 (Ψ) or Eq. 13 (G).

    The reward is rebuilt from its two parts with the agent's current c (docs/spec.md §5): Q and Ψ take
    ``log p(a|s) + r/c``, G and RL-only ``r/c`` (r: the reward terms, rMT for melodies).
    """
    if settings.bootstrap_last_note:
        done = torch.zeros_like(done)
    targets = None
    for algorithm in dict.fromkeys(settings.algorithms):
        reward = td_reward(algorithm, log_prior, reward_terms, settings.c)
        if algorithm == "g":
            y = g_target(reward, next_values, next_log_prior, done, settings.gamma)
        else:
            y = (psi_target if algorithm == "psi" else q_target)(reward, next_values, done, settings.gamma)
        targets = y if targets is None else torch.where(settings.mask(algorithm), y, targets)
    return targets


class Stack:
    """The ``(K, P)`` tensors of K agents — weights, target network, gradient buffer, Adam — and their views.

    Built once per ``learn``; the tensors are updated in place, so the views stay valid.
    """

    def __init__(self, theta: Tensor, target: Tensor, adam: AdamState, layout: Layout) -> None:
        self.theta, self.target, self.adam, self.layout = theta, target, adam, layout
        self.grad = torch.zeros_like(theta)
        self.params, self.target_params = split(theta, layout), split(target, layout)
        self.grads = split(self.grad, layout)
        self._adam_rows = [list(t.unbind(0)) for t in (theta, self.grad, adam.exp_avg, adam.exp_avg_sq)]

    def adam_step(self, settings: StepSettings) -> None:
        """Adam on every agent's row: the kernel of ``torch.optim.Adam(fused=True)``, one call for all K."""
        torch._foreach_add_(self.adam.steps, 1)
        torch._fused_adam_(
            *self._adam_rows,
            [],
            self.adam.steps,
            amsgrad=False,
            lr=settings.learning_rate,
            beta1=settings.betas[0],
            beta2=settings.betas[1],
            weight_decay=0.0,
            eps=settings.eps,
            maximize=False,
        )


@torch.no_grad()
def gradient_step(stack: Stack, settings: StepSettings, batch: tuple[Tensor, ...]) -> Tensor:
    """One gradient step of K agents on ``(y − V(s, a; θ))²``, then θ⁻ ← lerp(θ⁻, θ, η).

    :param stack: the agents' tensors, updated in place.
    :param batch: ``(note, h, cell, action, log_prior, reward_terms, done, next_log_prior)``, each with leading
        dims ``(K, B)``; ``next_log_prior`` may be ``None`` when no agent runs G.
    :return: ``(K, 3)``: loss, gradient norm before clipping and mean value of the actions taken.
    """
    note, h0, cell0, action, log_prior, reward_terms, done, next_log_prior = batch
    params, num_classes = stack.params, stack.params[0].shape[2]
    x, taken = one_hot(note, num_classes), one_hot(action, num_classes)  # (K, B, A)
    sig, cell_in, h1, cell1 = lstm_step(params, x, h0, cell0)
    value = (head(params, h1) * taken).sum(-1)  # (K, B): V(s, a)
    _, _, next_h, _ = lstm_step(stack.target_params, taken, h1, cell1)
    next_values = head(stack.target_params, next_h)  # (K, B, A) at s'
    error = value - td_targets(settings, log_prior, reward_terms, next_values, next_log_prior, done)
    _backward(params, stack.grads, (x, taken, h0, cell0, sig, cell_in, h1, cell1), error)
    norm = clip_gradients(stack.grad, stack.layout, settings)
    stack.adam_step(settings)
    stack.target.lerp_(stack.theta, settings.tau)
    return torch.stack([error.square().mean(-1), norm, value.mean(-1)], 1)


def _backward(params: list[Tensor], grads: list[Tensor], cache: tuple[Tensor, ...], error: Tensor) -> None:
    """Write ∂ mean(error²)/∂θ of each agent into ``grads`` (views of the ``(K, P)`` gradient buffer).

    Gathers and scatters by note are products with the one-hot batches ``x`` and ``taken``.
    """
    x, taken, h0, cell0, sig, cell_in, h1, cell1 = cache
    g_ih, g_hh, g_bih, g_bhh, g_o, g_bo = grads
    hidden = h1.shape[-1]
    d_taken = taken * (error * (2.0 / error.shape[-1])).unsqueeze(-1)  # (K, B, A): ∂L/∂values
    torch.bmm(d_taken.transpose(1, 2), h1, out=g_o)
    torch.sum(d_taken, 1, out=g_bo)
    tanh_cell1 = tanh(cell1)
    d_h1 = torch.bmm(d_taken, params[4])  # (K, B, H): ∂L/∂V · W_o[a]
    d_cell1 = d_h1 * sig[..., 3 * hidden :] * (1.0 - tanh_cell1 * tanh_cell1)
    upstream = torch.cat([d_cell1 * cell_in, d_cell1 * cell0, d_cell1 * sig[..., :hidden], d_h1 * tanh_cell1], dim=-1)
    local = sig * (1.0 - sig)
    local[..., 2 * hidden : 3 * hidden] = 1.0 - cell_in * cell_in
    d_gates = (upstream * local).transpose(1, 2)  # (K, 4H, B): ∂L/∂(pre-activations)
    torch.bmm(d_gates, h0, out=g_hh)
    torch.bmm(d_gates, x, out=g_ih)
    torch.sum(d_gates, 2, out=g_bih)
    g_bhh.copy_(g_bih)


def clip_gradients(grad: Tensor, layout: Layout, settings: StepSettings) -> Tensor:
    """Scale each agent's gradient to norm ≤ ``max_grad_norm``; return the norms before (K,).

    ``"global"``: one norm over all of an agent's parameters (as ``torch.nn.utils.clip_grad_norm_``).
    ``"per_tensor"``: each parameter tensor separately, as the original implementation did; the norm
    returned is still the global one.
    """
    norm = torch.linalg.vector_norm(grad, dim=1)
    if settings.clip == "global":
        grad.mul_((settings.max_grad_norm / (norm + 1e-6)).clamp_(max=1.0).unsqueeze(1))
        return norm
    for view in split(grad, layout):
        flat = view.reshape(view.shape[0], -1)
        flat.mul_((settings.max_grad_norm / (torch.linalg.vector_norm(flat, dim=1) + 1e-6)).clamp_(max=1.0)[:, None])
    return norm


__all__ = ["CLIP_MODES", "AdamState", "Stack", "StepSettings", "clip_gradients", "gradient_step", "td_targets"]
