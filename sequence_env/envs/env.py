"""``SequenceTune-v0``: write a sequence token by token, rewarded by a prior's log-likelihood and reward terms."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from sequence_env.envs.batch import SequenceBatch, observation_space
from sequence_env.task import SequenceTask, make_task
from sequence_env.threads import DEFAULT_TORCH_THREADS

RENDER_MODES = ("ansi",)


def resolve_task(task: SequenceTask | str, options: dict[str, Any] | None = None) -> SequenceTask:
    """A task object from a :class:`SequenceTask` or a registered name (built with ``options``)."""
    if isinstance(task, SequenceTask):
        if options:
            raise ValueError(f"task options {sorted(options)} apply to a task name, not to a built SequenceTask")
        return task
    if isinstance(task, str):
        return make_task(task, **(options or {}))
    raise TypeError(f"task must be a sequence_env.SequenceTask or a registered task name, got {type(task).__name__}")


def resolve_primer(task: SequenceTask, primer: object) -> np.ndarray:
    """A primer given to ``reset(options={"primer": ...})``: token ids, or a file the task reads (``read_primer``)."""
    if isinstance(primer, (str, os.PathLike)):
        if task.read_primer is None:
            raise ValueError(f"task {task.name!r} reads no primer files; pass the primer as token ids")
        primer = task.read_primer(primer).tokens
    tokens = task.vocabulary.validate(primer, name="primer")
    if tokens.ndim != 1 or tokens.size == 0:
        raise ValueError(f"a primer must hold at least one token (1-D), got shape {tokens.shape}")
    return tokens.copy()


def render_text(task: SequenceTask, mode: str, primer: np.ndarray, sequence: np.ndarray) -> str | np.ndarray:
    """The task's rendering of a row, or ``[primer] sequence`` as decoded text."""
    if task.render is not None:
        return task.render(mode, primer, sequence, task.max_length)
    decode = task.vocabulary.decode
    return f"[{decode(primer, skip_specials=False)}] {decode(sequence, skip_specials=False)}"


def check_action(action: object, vocab_size: int) -> int:
    """``action`` as an int token id, or a ``TypeError``/``ValueError`` naming what is wrong."""
    if isinstance(action, (bool, np.bool_)):
        raise TypeError(f"action must be an int token id 0..{vocab_size - 1}, got bool {action!r}")
    if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        action = action.item()
    if not isinstance(action, (int, np.integer)):
        raise TypeError(f"action must be an int token id 0..{vocab_size - 1}, got {type(action).__name__} {action!r}")
    if not 0 <= action < vocab_size:
        raise ValueError(f"action must be a token id 0..{vocab_size - 1}, got {action}")
    return int(action)


class SequenceTuneEnv(gym.Env):
    """Write one sequence of a :class:`~sequence_env.task.SequenceTask`, one token per step (docs/spec.md §10).

    ## Action Space

    ``Discrete(V)``, V the task's vocabulary size: the next token.

    ## Observation Space

    A ``Dict``: ``task.token_key`` (``Discrete(V)``, the last token, the primer's last after reset), the
    frozen prior's state after it (one ``Box`` per part, named by ``prior.state_names``, e.g. ``h`` and
    ``c`` of an LSTM) and ``position`` (``Discrete(max_length + 1)``, tokens written so far).

    ## Rewards

    Eq. 3: ``r(s, a) = log p(a | s) + r(a, s) / c``, with ``p`` the frozen prior and ``r`` the weighted sum
    of the task's reward terms. ``reward_mode="rules"`` gives ``r / c`` only, ``"prior"`` ``log p(a|s)`` only.
    ``info`` of ``step``: ``"log_prior"``, ``task.sum_key`` (the terms' sum, not divided by c), one
    ``task.term_prefix + name`` per term, and ``"prior_log_probs"`` (``(V,)``, log p(·|s')).

    ## Episode End

    ``terminated`` after ``max_length`` tokens, or after the task's end token; no truncation.

    ## Arguments

    :param render_mode: ``None`` or ``"ansi"`` (or the task's own modes).
    :param task: a :class:`SequenceTask` or a registered task name.
    :param task_options: arguments of a registered task's factory.
    :param c: the weight of the prior against the terms (``None``: the task's).
    :param reward_mode: ``"full"``, ``"rules"`` or ``"prior"``.
    :param max_primer_length: longest primer ``reset`` accepts (``None``: the task's).
    :param torch_threads: torch threads of the env's torch work (one by default, :mod:`sequence_env.threads`).

    ## Version History

    * v0: first version.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012
    VECTOR_ENV: ClassVar[str] = "sequence_env.envs.vector:SequenceTuneVectorEnv"
    """The vector form of this env (``module:Class``), which ``agents`` builds from one env."""

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        task: SequenceTask | str,
        task_options: dict[str, Any] | None = None,
        c: float | None = None,
        reward_mode: str = "full",
        max_primer_length: int | None = None,
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        task = resolve_task(task, task_options)
        core = SequenceBatch(
            1, task, c=c, reward_mode=reward_mode, max_primer_length=max_primer_length, torch_threads=torch_threads
        )
        self._init_core(core, render_mode)

    def _init_core(self, core: SequenceBatch, render_mode: str | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.core = core
        task = self.task = core.task
        self.observation_space = observation_space(task, self.core.prior, self.core.max_primer_length)
        self.action_space = spaces.Discrete(task.vocab_size)
        self._term_keys = tuple(task.term_prefix + name for name in self.core.term_names)
        self._action = np.zeros(1, dtype=np.int64)
        self._mask = np.ones(1, dtype=bool)

    @property
    def prior(self) -> Any:
        """The frozen prior (a copy of the task's)."""
        return self.core.prior

    @property
    def c(self) -> float:
        """The weight of the prior against the terms."""
        return self.core.c

    @property
    def sequence(self) -> np.ndarray:
        """The tokens of the episode so far, int64 (a copy)."""
        return self.core.sequences[0, : max(int(self.core.positions[0]), 0)].copy()

    @property
    def primer(self) -> np.ndarray:
        """The tokens fed to the prior before the episode (a copy)."""
        return self.core.primers[0].copy()

    def resolve_primer(self, primer: object) -> np.ndarray:
        """A ``reset`` primer option as token ids (:func:`resolve_primer`)."""
        return resolve_primer(self.task, primer)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start a new episode: draw the primer from ``np_random`` and feed it to the prior.

        :param seed: seeds ``np_random`` (Gymnasium semantics).
        :param options: ``{"primer": ...}`` to override the primer for this episode only.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        primer = self.resolve_primer(options.pop("primer")) if "primer" in options else None
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; the only one is 'primer'")
        self.core.reset_rows(self._mask, [self.core.draw_primer(self.np_random, primer)])
        self._show()
        return self._observation(), {"prior_log_probs": self.core.log_probs[0].copy()}

    def step(self, action: int) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Write token ``action``; see the class docs for the reward and ``info``."""
        self._action[0] = self._check_action(action)
        core = self.core
        if not 0 <= core.positions[0] < core.max_length or core.ended[0]:
            raise ResetNeeded(self._complete_message())
        reward, log_prior, total, term_values = core.step(self._action)
        info = dict(zip(self._term_keys, term_values[0].tolist(), strict=True))
        info["log_prior"] = float(log_prior[0])
        info[self.task.sum_key] = float(total[0])
        info["prior_log_probs"] = core.log_probs[0].copy()
        self._show()
        return self._observation(), float(reward[0]), bool(core.ended[0]), False, info

    def _check_action(self, action: object) -> int:
        return check_action(action, self.task.vocab_size)

    def _complete_message(self) -> str:
        return "the episode is complete (max_length or its end token) or not started; call reset() before step()"

    def _show(self) -> None:
        """Draw the episode where a render mode draws by itself (none here)."""

    def render(self) -> str | np.ndarray | None:
        """The episode so far as text (``"ansi"``), or the task's rendering."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi'")
            return None
        return render_text(self.task, self.render_mode, self.core.primers[0], self.sequence)

    def _observation(self) -> dict[str, Any]:
        return {
            key: np.int64(value[0]) if value.ndim == 1 else value[0] for key, value in self.core.observation().items()
        }


__all__ = ["RENDER_MODES", "SequenceTuneEnv", "check_action", "render_text", "resolve_primer", "resolve_task"]
