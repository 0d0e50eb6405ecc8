"""Guarding training against NaN: the last good copy of the trainable state, and the error raised."""

from __future__ import annotations

from collections.abc import Callable

import torch


class NaNLossError(FloatingPointError):
    """A loss or gradient norm became NaN/inf; the agent was restored to its last good state."""


class GoodState:
    """In-memory copy of the trainable tensors (weights, target network, Adam's state) after the last finite update.

    :meth:`capture` after each batch of finite gradient steps is one ``_foreach_copy_`` into preallocated
    tensors; :meth:`restore` copies them back.

    :param live: returns the tensors to guard (the same tensors, in the same order, at every call).
    """

    def __init__(self, live: Callable[[], list[torch.Tensor]]) -> None:
        self._live = live
        self._saved = [t.detach().clone() for t in live()]

    @torch.no_grad()
    def capture(self) -> None:
        """Remember the current state as the last good one."""
        torch._foreach_copy_(self._saved, self._live())

    @torch.no_grad()
    def restore(self) -> None:
        """Put the last good state back."""
        torch._foreach_copy_(self._live(), self._saved)


__all__ = ["GoodState", "NaNLossError"]
