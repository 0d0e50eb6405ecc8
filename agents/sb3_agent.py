"""What :class:`agents.RLTuner` and :class:`agents.KLPPO` share of SB3's interface.

Both keep an SB3 logger, an env, its task (:class:`sequence_env.task.SequenceTask`), an episode length,
a random generator and a recurrent network that composes (:mod:`agents.inference`): the Q network for
RLTuner, the actor for KLPPO. Each says which through :meth:`SB3Agent._composer`; the rest (logging,
callbacks, threads, composing) is written once here.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback, ProgressBarCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import configure_logger, safe_mean
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from agents.callbacks import TuningStatsCallback
from agents.inference import Primer, compose, next_token_probabilities, predict_actions
from sequence_env.task import SequenceTask
from sequence_env.threads import torch_threads


class SB3Agent:
    """The logger, env, threads and composing of an agent; subclasses set the attributes below.

    ``env``, ``task``, ``max_length``, ``torch_threads``, ``verbose``, ``tensorboard_log``, ``_generator``,
    ``_logger``, ``_custom_logger``, ``ep_info_buffer``, ``num_timesteps``, ``start_time`` (ns) and
    ``_num_timesteps_at_start``.
    """

    LOG_NAME: ClassVar[str]
    """The folder of its tensorboard runs."""

    env: VecEnv | None
    task: SequenceTask | None
    max_length: int | None
    torch_threads: int | None

    def _composer(self) -> tuple[nn.Module, str]:
        """The network that composes and the algorithm whose policy its values define (agents.inference)."""
        raise NotImplementedError

    @property
    def logger(self) -> Logger:
        """SB3 logger (configured by ``learn`` unless set with :meth:`set_logger`)."""
        if self._logger is None:
            self._logger = configure_logger(self.verbose, self.tensorboard_log, self.LOG_NAME, True)
        return self._logger

    def set_logger(self, logger: Logger) -> None:
        """Use ``logger`` (e.g. ``stable_baselines3.common.logger.configure(path, ["stdout", "csv"])``)."""
        self._logger, self._custom_logger = logger, True

    def get_env(self) -> VecEnv | None:
        """The training env as an SB3 ``VecEnv``."""
        return self.env

    def get_vec_normalize_env(self) -> None:
        """Observations are never normalised (SB3 API)."""
        return None

    @property
    def action_space(self) -> spaces.Discrete:
        """``Discrete(V)``: the next token of the prior's vocabulary."""
        return spaces.Discrete(self._composer()[0].vocab_size)

    def _task(self) -> SequenceTask:
        """The task the agent composes for (its env's, or the one it was saved with)."""
        if self.task is None:
            raise ValueError(
                "this agent has no task to compose for (no env, and none saved); give it an env (set_env) first"
            )
        return self.task

    def _threads(self) -> AbstractContextManager[None]:
        """The block runs on ``torch_threads``, the caller's setting restored after.

        Every call that runs torch work takes it, construction and loading included: a parallel op on the
        caller's threads would start torch's OpenMP pool, which a forked child deadlocks in
        (:mod:`sequence_env.threads`).
        """
        return torch_threads(self.torch_threads)

    def _init_callback(self, callback: Any, progress_bar: bool) -> BaseCallback:
        """The user's callback(s) as SB3 runs them, after :class:`~agents.callbacks.TuningStatsCallback`."""
        if isinstance(callback, list):
            callback = CallbackList(callback)
        if callback is not None and not isinstance(callback, BaseCallback):
            callback = ConvertCallback(callback)
        callbacks = [TuningStatsCallback(), *([callback] if callback is not None else [])]
        if progress_bar:
            callbacks.append(ProgressBarCallback())
        callback = CallbackList(callbacks)
        callback.init_callback(self)
        return callback

    def _dump(self, counters: dict[str, Any], values: dict[str, Any]) -> None:
        """Record ``counters`` (not to tensorboard), the mean return and length, ``values``, the speed; dump."""
        elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        logger = self.logger
        for key, value in counters.items():
            logger.record(key, value, exclude="tensorboard")
        if self.ep_info_buffer:
            logger.record("rollout/ep_rew_mean", safe_mean([ep["r"] for ep in self.ep_info_buffer]))
            logger.record("rollout/ep_len_mean", safe_mean([ep["l"] for ep in self.ep_info_buffer]))
        for key, value in values.items():
            logger.record(key, value)
        logger.record("time/fps", int((self.num_timesteps - self._num_timesteps_at_start) / elapsed))
        logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        logger.dump(step=self.num_timesteps)

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: tuple[np.ndarray, np.ndarray] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Actions for env observations, carrying the network's LSTM state like SB3's recurrent policies.

        :param observation: the env's observation (one env or a batch).
        :param state: the second value returned by the previous call (``None`` at the start).
        :param episode_start: True where a new episode starts (its state restarts from the initial state).
        :param deterministic: argmax of the policy; otherwise sample it (softmax of Q / Ψ / G + log p, or
            of the actor's logits).
        :return: ``(actions, state)``.
        """
        network, algorithm = self._composer()
        with self._threads():
            return predict_actions(
                network, algorithm, self._task(), observation, state, episode_start, deterministic, self._generator
            )

    def generate(
        self,
        n: int,
        temperature: float | str = 1.0,
        seed: int | None = None,
        primer: Primer = None,
        length: int | None = None,
    ) -> np.ndarray:
        """Compose ``n`` sequences at once (docs/spec.md §7): sample the policy's softmax at temperature T each step.

        :param n: number of sequences.
        :param temperature: softmax temperature; ``0`` or ``"greedy"`` takes the argmax.
        :param seed: seeds the primers and draws (``None``: the agent's generator).
        :param primer: tokens fed first, not part of the output: a file the task reads (a MIDI/ABC file for
            melodies, which then continue in its key), a token or a sequence of tokens priming every
            sequence, ``(n, P)`` rows (one each), or ``None`` for the task's primers (one random note onset
            per melody; :func:`agents.inference.compose`).
        :param length: tokens per sequence (``None``: ``max_length``, the length it was trained on).
        :return: ``(n, length)`` int64 tokens.
        """
        generator = self._generator if seed is None else torch.Generator().manual_seed(seed)
        length = self.max_length if length is None else length
        if length is None:
            raise ValueError("pass length=: this agent has no task that sets the episode length")
        network, algorithm = self._composer()
        with self._threads():
            return compose(network, algorithm, self._task(), n, length, temperature, generator, primer)

    def next_token_probabilities(self, sequence: np.ndarray, primer: int) -> np.ndarray:
        """The policy's next-token distribution along ``sequence`` (paper Figure 4).

        :param sequence: ``(T,)`` tokens. :param primer: the token fed before the sequence.
        :return: ``(T, V)``; row t is π(·|primer, sequence[:t]).
        """
        network, algorithm = self._composer()
        with self._threads():
            return next_token_probabilities(network, algorithm, self._task(), sequence, primer)

    next_note_probabilities = next_token_probabilities  # the melody name of the same method (Figure 4)


__all__ = ["SB3Agent"]
