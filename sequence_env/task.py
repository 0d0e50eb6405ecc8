"""A sequence task: what the generic env and the tuners need to know of one instance (docs/spec.md §10).

A :class:`SequenceTask` names the vocabulary, the pretrained prior, the reward terms and their context,
the episode length or end token, how primers are drawn, and ``c``. ``SequenceTune-v0`` is made from one
(``gym.make("SequenceTune-v0", task=task)``); melodies are the task ``melody_env.task.melody_task()``.
Tasks can also be registered by name (:func:`register_task`), so a saved tuner names its task and
rebuilds it when loaded.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sequence_env.terms import RewardTerms
from sequence_env.vocabulary import Vocabulary

if TYPE_CHECKING:  # torch is imported where primers are drawn for composing, not when a task is registered
    import torch

PrimerDraw = Callable[[np.random.Generator], np.ndarray]
PrimerBatch = Callable[[int, "torch.Generator | None"], "torch.Tensor"]


@dataclass(frozen=True)
class PrimerFile:
    """A primer read from a file: its tokens and how to map sequences composed after it back (e.g. a transposition)."""

    tokens: np.ndarray
    restore: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass(frozen=True)
class SequenceTask:
    """One instance of RL Tuner: a prior to refine and the terms to impose (docs/spec.md §10).

    :param name: the task's name (its registry name, if registered).
    :param vocabulary: the tokens.
    :param prior: the pretrained prior (:class:`~sequence_env.prior.AutoregressivePrior`), or a function
        of no arguments that loads it.
    :param terms: the reward terms (r in ``log p + r / c``).
    :param max_length: tokens per episode at most.
    :param context: what the terms receive besides the sequences.
    :param c: the weight of the prior against the terms (Eq. 3).
    :param end_token: id that ends an episode early (``None``: every episode has ``max_length`` tokens);
        defaults to the vocabulary's ``end``.
    :param primer: draws one primer ``(P,)`` from a numpy generator (the env's rows); ``None``: the
        vocabulary's begin token.
    :param primer_batch: draws ``(n, P)`` primers from a torch generator (composing); ``None``: ``primer``'s
        rule for a begin token.
    :param max_primer_length: the longest primer ``primer`` gives.
    :param token_key: observation key of the last token (``"note"`` for melodies).
    :param sum_key: ``info`` key of the terms' weighted sum (``"music_theory"`` for melodies).
    :param term_prefix: ``info`` key prefix of each term's weighted value (``"rules/"`` for melodies).
    :param read_primer: reads a primer from a file path (e.g. MIDI), or ``None``.
    :param trusted_terms: term functions whose output shape needs no check (built-in, tested ones).
    :param render: ``render(mode, primer, sequence, max_length)`` for the env's ``render()``; ``None``: text.
    :param module: module whose import registers this task's name (for saved tuners), if any.
    :param options: the task factory's arguments, recorded so a saved tuner can rebuild the task.
    """

    name: str
    vocabulary: Vocabulary
    prior: Any
    terms: RewardTerms
    max_length: int
    context: Any = None
    c: float = 0.5
    end_token: int | None = None
    primer: PrimerDraw | None = None
    primer_batch: PrimerBatch | None = None
    max_primer_length: int = 1
    token_key: str = "token"
    sum_key: str = "reward_terms"
    term_prefix: str = "terms/"
    read_primer: Callable[[str | os.PathLike], PrimerFile] | None = None
    trusted_terms: Collection[Any] = ()
    render: Callable[..., Any] | None = None
    module: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.max_length, bool) or not isinstance(self.max_length, int) or self.max_length < 1:
            raise ValueError(f"task {self.name!r}: max_length must be a positive int, got {self.max_length!r}")
        if self.end_token is None and self.vocabulary.end is not None:
            object.__setattr__(self, "end_token", self.vocabulary.end)
        if self.primer is None and self.vocabulary.begin is None:
            raise ValueError(f"task {self.name!r} needs a primer function or a vocabulary with a begin token")

    @property
    def vocab_size(self) -> int:
        """Token ids are ``0..vocab_size - 1``."""
        return self.vocabulary.size

    def load_prior(self) -> Any:
        """The prior (calling the loader if ``prior`` is one)."""
        prior = self.prior
        return prior() if callable(prior) and not hasattr(prior, "step") else prior

    def draw_primer(self, rng: np.random.Generator) -> np.ndarray:
        """One primer ``(P,)`` int64 for an env row."""
        if self.primer is None:
            return np.array([self.vocabulary.begin], dtype=np.int64)
        return np.asarray(self.primer(rng), dtype=np.int64)

    def sample_primers(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, P)`` int64 primers for composing ``n`` sequences."""
        import torch

        if self.primer_batch is not None:
            return self.primer_batch(n, generator)
        if self.primer is None:
            return torch.full((n, 1), self.vocabulary.begin, dtype=torch.long)
        seed = int(torch.randint(2**31 - 1, (), generator=generator))
        rng = np.random.default_rng(seed)
        return torch.as_tensor(np.stack([self.draw_primer(rng) for _ in range(n)]), dtype=torch.long)

    def with_options(self, **changes: Any) -> SequenceTask:
        """A copy with fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)


_TASKS: dict[str, Callable[..., SequenceTask]] = {}


def register_task(name: str, factory: Callable[..., SequenceTask]) -> None:
    """Make ``make_task(name, **options)`` call ``factory(**options)`` (importing a task's package does this)."""
    _TASKS[name] = factory


def make_task(name: str, module: str | None = None, **options: Any) -> SequenceTask:
    """The registered task ``name`` built with ``options``.

    An unknown name imports ``module`` first, or else the installed instances (:mod:`sequence_env.plugins`).

    :raises ValueError: no task of that name is registered.
    """
    if name not in _TASKS and module:
        importlib.import_module(module)
    if name not in _TASKS:
        from sequence_env.plugins import load_env_plugins

        load_env_plugins()
    if name not in _TASKS:
        known = ", ".join(sorted(_TASKS)) or "none"
        raise ValueError(f"no sequence task named {name!r} is registered (known: {known}); import its package first")
    return _TASKS[name](**options)


__all__ = ["PrimerFile", "SequenceTask", "make_task", "register_task"]
