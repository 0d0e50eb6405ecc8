"""Guarding training against NaN: the last good copy of the trainable state, and the error raised."""

from __future__ import annotations

from typing import Any

import torch


class NaNLossError(FloatingPointError):
    """A loss or gradient norm became NaN/inf; the agent was restored to its last good state."""


class GoodState:
    """In-memory copy of the Q network, the target network and Adam's moments after the last finite update.

    :meth:`capture` after each batch of finite gradient steps is a few ``_foreach_copy_`` calls into
    preallocated tensors; :meth:`restore` copies them back.

    :param agent: an object with ``networks`` (:class:`~agents.policies.TunerNetworks`) and ``optimizer``.
    """

    def __init__(self, agent: Any) -> None:
        self._agent = agent
        self._saved: list[torch.Tensor] = []
        self._has_optimizer_state = False
        self.capture()

    def _live(self) -> tuple[list[torch.Tensor], bool]:
        nets, optimizer = self._agent.networks, self._agent.optimizer
        tensors = [*nets.q_net.parameters(), *nets.target_net.parameters()]
        state = [optimizer.state[p] for group in optimizer.param_groups for p in group["params"]]
        with_optimizer = bool(state) and all(state)
        if with_optimizer:
            tensors += [s[key] for s in state for key in sorted(s) if isinstance(s[key], torch.Tensor)]
        return tensors, with_optimizer

    @torch.no_grad()
    def capture(self) -> None:
        """Remember the current state as the last good one."""
        tensors, with_optimizer = self._live()
        if len(tensors) != len(self._saved) or with_optimizer != self._has_optimizer_state:
            self._saved = [t.detach().clone() for t in tensors]
            self._has_optimizer_state = with_optimizer
        else:
            torch._foreach_copy_(self._saved, tensors)

    @torch.no_grad()
    def restore(self) -> None:
        """Put the last good state back (Adam's moments are dropped if none had been captured yet)."""
        tensors, _ = self._live()
        if not self._has_optimizer_state:
            self._agent.optimizer.state.clear()
            tensors = tensors[: len(self._saved)]
        torch._foreach_copy_(tensors, self._saved)


__all__ = ["GoodState", "NaNLossError"]
