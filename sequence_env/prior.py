"""The autoregressive prior protocol: what the env and the tuners need of a pretrained model (docs/spec.md §10).

A prior reads one token per step and keeps a recurrent state, a tuple of ``(B, size)`` float32 tensors
named by ``state_names`` (the LSTM's ``("h", "c")``). The env's observation holds each part under its
name, and the tuners copy the prior's network to start from (paper Fig. 1). Any ``nn.Module`` with these
members is a prior; :class:`sequence_env.lstm.LSTMPrior` is the first implementation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from torch import Tensor

State = tuple[Tensor, ...]


@runtime_checkable
class AutoregressivePrior(Protocol):
    """A batched next-token model with a recurrent state.

    - ``initial_state(n)``: the state before any token, a tuple of ``(n, size)`` tensors;
    - ``step(tokens (B,), state) -> (logits (B, V), state)``: read one token per row;
    - ``output(state) -> logits (B, V)``: the next-token logits of a state (what ``step`` returned with it);
    - ``log_prob(sequences (B, T), state=None) -> (B, T - 1)``: log p of each token after the first;
    - ``save(path)`` and ``load(path)``: safetensors + JSON, no pickle; ``config_dict()`` and
      ``from_config(config)`` rebuild an empty network of the same shape (for saved tuners).
    """

    vocab_size: int
    state_names: tuple[str, ...]

    def initial_state(self, batch_size: int) -> State: ...

    def step(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]: ...

    def output(self, state: State) -> Tensor: ...

    def log_prob(self, sequences: Tensor, state: State | None = None) -> Tensor: ...

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> Path: ...

    def config_dict(self) -> dict[str, Any]: ...


def prior_class_name(prior: object) -> str:
    """``"module:QualName"`` of a prior's class, recorded in saved tuners to rebuild it by name."""
    cls = type(prior)
    return f"{cls.__module__}:{cls.__qualname__}"


def prior_from_config(class_name: str, config: dict[str, Any]) -> Any:
    """An untrained prior of class ``"module:QualName"`` built from ``config`` (``from_config``), no pickle.

    :raises ValueError: the class cannot be imported or is not a prior.
    """
    import importlib

    module_name, _, qualname = class_name.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"the prior class {class_name!r} cannot be imported ({exc}); install the package that defines it"
        ) from exc
    if not hasattr(obj, "from_config"):
        raise ValueError(f"{class_name!r} has no from_config(config); it is not a prior this project can rebuild")
    return obj.from_config(config)


__all__ = ["AutoregressivePrior", "State", "prior_class_name", "prior_from_config"]
