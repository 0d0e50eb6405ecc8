"""What :class:`agents.RLTuner` and :class:`agents.KLPPO` share of SB3's interface.

Both keep an SB3 logger, an env, a melody length, a random generator and a recurrent network that
composes (:mod:`agents.inference`): the Q network for RLTuner, the actor for KLPPO. Each says which
through :meth:`SB3Agent._composer`; the rest (logging, callbacks, threads, composing) is written once here.
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
from agents.inference import Primer, compose, next_note_probabilities, predict_actions
from reward_rules.tokens import NUM_CLASSES
from sequence_env.threads import torch_threads


class SB3Agent:
    """The logger, env, threads and composing of an agent; subclasses set the attributes below.

    ``env``, ``melody_length``, ``torch_threads``, ``verbose``, ``tensorboard_log``, ``_generator``,
    ``_logger``, ``_custom_logger``, ``ep_info_buffer``, ``num_timesteps``, ``start_time`` (ns) and
    ``_num_timesteps_at_start``.
    """

    LOG_NAME: ClassVar[str]
    """The folder of its tensorboard runs."""

    env: VecEnv | None
    melody_length: int
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
        """``Discrete(38)``: the next note class."""
        return spaces.Discrete(NUM_CLASSES)

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

        :param observation: ``MelodyCompose-v0`` observation (one env or a batch).
        :param state: the second value returned by the previous call (``None`` at the start).
        :param episode_start: True where a new melody starts (its LSTM state restarts from zeros).
        :param deterministic: argmax of the policy; otherwise sample it (softmax of Q / Ψ / G + log p, or
            of the actor's logits).
        :return: ``(actions, state)``.
        """
        network, algorithm = self._composer()
        with self._threads():
            return predict_actions(
                network, algorithm, observation, state, episode_start, deterministic, self._generator
            )

    def generate(
        self,
        n: int,
        temperature: float | str = 1.0,
        seed: int | None = None,
        primer: Primer = None,
        length: int | None = None,
    ) -> np.ndarray:
        """Compose ``n`` melodies at once (docs/spec.md §7): sample the policy's softmax at temperature T each step.

        :param n: number of melodies.
        :param temperature: softmax temperature; ``0`` or ``"greedy"`` takes the argmax.
        :param seed: seeds the primers and draws (``None``: the agent's generator).
        :param primer: notes fed first, not part of the melodies: a MIDI/ABC file (the melodies
            continue in its key), a note or a sequence of notes priming every melody, ``(n, P)`` rows
            (one per melody), or ``None`` for one random note onset each (:func:`agents.inference.compose`).
        :param length: notes per melody (``None``: ``melody_length``, the length it was trained on).
        :return: ``(n, length)`` int64 classes.
        """
        generator = self._generator if seed is None else torch.Generator().manual_seed(seed)
        length = self.melody_length if length is None else length
        network, algorithm = self._composer()
        with self._threads():
            return compose(network, algorithm, n, length, temperature, generator, primer)

    def next_note_probabilities(self, melody: np.ndarray, primer: int) -> np.ndarray:
        """The policy's next-note distribution along ``melody`` (paper Figure 4).

        :param melody: ``(T,)`` classes. :param primer: the note fed before the melody.
        :return: ``(T, 38)``; row t is π(·|primer, melody[:t]).
        """
        network, algorithm = self._composer()
        with self._threads():
            return next_note_probabilities(network, algorithm, melody, primer)


__all__ = ["SB3Agent"]
