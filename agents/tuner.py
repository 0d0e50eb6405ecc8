"""RLTuner: Q, Ψ, G learning and the RL-only baseline with Stable-Baselines3's API (SPEC §5, §6).

``RLTuner(algorithm, env, **hyperparameters)`` duck-types SB3's ``BaseAlgorithm`` (``learn``,
``predict``, ``save``/``load``, ``get_env``, ``num_timesteps``, ``logger``, callbacks) without
subclassing it: SB3's replay stores observations, while RL Tuner's stores the Q network's own LSTM
state and trains one recurrent step from it (SPEC §5). Defaults are the paper's (SPEC §6).

Acting on N melodies at once: the Q network steps on (previous note, its LSTM state), the policy
logits (Q, Ψ or G + log p) pick the notes through ε-greedy or Boltzmann exploration, the env returns
rewards, and N transitions enter the replay. Gradient steps keep the paper's ratio: one batch of 32
per 5 environment steps, i.e. N/5 per vector step. Each gradient step regresses the value of the
action taken onto its target (:mod:`agents.targets`, Eq. 4, 11, 13) and then soft-updates the target
network (η = 0.01).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback, ProgressBarCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import configure_logger, safe_mean
from stable_baselines3.common.vec_env import VecEnv

from agents.backprop import backward_taken, forward_taken
from agents.buffer import RecurrentReplayBuffer, ReplayBatch
from agents.callbacks import TuningStatsCallback
from agents.exploration import make_exploration
from agents.inference import Primer, compose, next_note_probabilities, predict_actions
from agents.policies import TunerNetworks, check_algorithm, policy_logits
from agents.serialization import agent_state, load_agent, restore_agent_state, save_agent
from agents.targets import g_target, psi_target, q_target
from agents.training_state import GoodState, NaNLossError
from agents.vec_env import as_vec_env, env_melody_length, env_note_rnn
from melody_env.checkpoint import CheckpointError
from melody_env.note_rnn import NoteRNN, NoteRNNConfig, load_default_note_rnn

MaybeCallback = BaseCallback | list[BaseCallback] | Any | None
REWARD_MODE = {"q": "full", "psi": "full", "g": "rules", "rl_only": "rules"}


class RLTuner:
    """Tune a pretrained Note RNN with reinforcement learning (paper §3).

    :param algorithm: ``"q"`` (Eq. 4), ``"psi"`` (Eq. 11), ``"g"`` (Eq. 13) or ``"rl_only"``.
    :param env: a ``MelodyCompose-v0`` env, its Gymnasium vector form, an SB3 ``VecEnv`` of it, the id
        string (then ``n_envs`` melodies with the reward mode the algorithm needs), or ``None``.
    :param learning_rate: Adam step size (SPEC §6: 1e-3).
    :param buffer_size: replay capacity in transitions (SPEC §6: 100,000).
    :param batch_size: transitions per gradient step (SPEC §6: 32).
    :param gamma: discount γ (SPEC §6: 0.5).
    :param tau: target-network soft-update rate η after every gradient step (SPEC §6: 0.01).
    :param train_freq: environment steps per gradient step (SPEC §6: 5).
    :param learning_starts: environment steps before the first gradient step (the replay must also hold
        a batch).
    :param max_grad_norm: gradient-norm clip (SPEC §6: 5).
    :param exploration: ``"egreedy"`` (SPEC §6) or ``"boltzmann"`` (sample the policy).
    :param exploration_initial_eps: ε at step 0 (SPEC §6: 1.0).
    :param exploration_final_eps: ε after the ramp (SPEC §6: 0.1).
    :param exploration_steps: length of the linear ε ramp in environment steps (SPEC §6: 500,000).
    :param boltzmann_temperature: softmax temperature of Boltzmann exploration.
    :param note_rnn: the pretrained Note RNN (a model or a checkpoint path); ``None`` takes the env's
        Reward RNN, else the shipped checkpoint.
    :param n_envs: melodies in parallel when ``env`` is an id string.
    :param env_kwargs: extra arguments for ``gym.make_vec`` when ``env`` is an id string (e.g. ``c``).
    :param nan_checkpoint_path: where to write the last good state if a loss turns NaN (``None``: only
        restore it in memory).
    :param tensorboard_log: tensorboard folder (``None``: none).
    :param verbose: 0 silent, 1 logs to stdout.
    :param seed: seeds the env, exploration, replay sampling and ``predict``.
    :param torch_threads: if given, ``torch.set_num_threads`` (tiny nets run fastest on 1 thread).
    """

    def __init__(
        self,
        algorithm: str,
        env: Any = None,
        *,
        learning_rate: float = 1e-3,
        buffer_size: int = 100_000,
        batch_size: int = 32,
        gamma: float = 0.5,
        tau: float = 0.01,
        train_freq: int = 5,
        learning_starts: int = 0,
        max_grad_norm: float = 5.0,
        exploration: str = "egreedy",
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.1,
        exploration_steps: int = 500_000,
        boltzmann_temperature: float = 1.0,
        note_rnn: NoteRNN | str | os.PathLike | None = None,
        n_envs: int = 64,
        env_kwargs: dict[str, Any] | None = None,
        nan_checkpoint_path: str | os.PathLike | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        torch_threads: int | None = None,
    ) -> None:
        self.algorithm = check_algorithm(algorithm)
        for name, value in (("batch_size", batch_size), ("train_freq", train_freq), ("buffer_size", buffer_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.hyperparameters = {
            "learning_rate": float(learning_rate), "buffer_size": buffer_size, "batch_size": batch_size,
            "gamma": float(gamma), "tau": float(tau), "train_freq": train_freq, "learning_starts": int(learning_starts),
            "max_grad_norm": float(max_grad_norm), "exploration": exploration,
            "exploration_initial_eps": float(exploration_initial_eps),
            "exploration_final_eps": float(exploration_final_eps),
            "exploration_steps": int(exploration_steps), "boltzmann_temperature": float(boltzmann_temperature),
            "n_envs": int(n_envs), "seed": seed,
        }  # fmt: skip
        self.__dict__.update(self.hyperparameters)
        self.exploration_strategy = make_exploration(
            exploration, exploration_initial_eps, exploration_final_eps, exploration_steps, boltzmann_temperature
        )
        self.nan_checkpoint_path = nan_checkpoint_path
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        self.env: VecEnv | None = None
        if env is not None:
            self.env = as_vec_env(env, REWARD_MODE[self.algorithm], n_envs, env_kwargs, seed)
        if note_rnn is None:
            note_rnn = (env_note_rnn(self.env) if self.env is not None else None) or load_default_note_rnn()
        elif not isinstance(note_rnn, NoteRNN):
            note_rnn = NoteRNN.load(note_rnn)
        self.melody_length = env_melody_length(self.env) if self.env is not None else 32
        self.networks = TunerNetworks(note_rnn)
        self._q_params = self.networks.q_params
        self._grads = [torch.zeros_like(p) for p in self._q_params]
        for param, grad in zip(self._q_params, self._grads, strict=True):
            param.grad = grad  # filled in place by backward_taken at every gradient step
        self.optimizer = torch.optim.Adam(self._q_params, lr=self.learning_rate, fused=True)
        self._target_fn = {"q": q_target, "rl_only": q_target, "psi": psi_target}.get(self.algorithm)
        self.replay_buffer = RecurrentReplayBuffer(
            buffer_size, note_rnn.config.hidden_size, note_rnn.config.num_classes, store_prior=self.algorithm == "g"
        )
        self._generator = torch.Generator()
        self._generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
        self._good_state = GoodState(self)
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._episode_num = 0
        self._n_updates = 0
        self._grad_credit = 0.0
        self._last_obs: dict[str, np.ndarray] | None = None
        self._logger: Logger | None = None
        self._custom_logger = False
        self.ep_info_buffer: deque = deque(maxlen=100)

    # --------------------------------------------------------------------------------- SB3 duck type
    @property
    def logger(self) -> Logger:
        """SB3 logger (configured by ``learn`` unless set with :meth:`set_logger`)."""
        if self._logger is None:
            self._logger = configure_logger(self.verbose, self.tensorboard_log, "RLTuner", True)
        return self._logger

    def set_logger(self, logger: Logger) -> None:
        """Use ``logger`` (e.g. ``stable_baselines3.common.logger.configure(path, ["stdout", "csv"])``)."""
        self._logger = logger
        self._custom_logger = True

    def get_env(self) -> VecEnv | None:
        """The training env as an SB3 ``VecEnv``."""
        return self.env

    def set_env(self, env: Any) -> None:
        """Train on ``env`` from now on (same forms as the constructor); the melodies in progress restart."""
        self.env = as_vec_env(env, REWARD_MODE[self.algorithm], self.n_envs, None, self.seed)
        self._last_obs = None

    def get_vec_normalize_env(self) -> None:
        """Observations are never normalised (SB3 API)."""
        return None

    @property
    def exploration_rate(self) -> float:
        """Current ε (ε-greedy) or temperature (Boltzmann)."""
        return self.exploration_strategy.rate(self.num_timesteps)

    # ------------------------------------------------------------------------------------- learning
    def learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int | None = 4,
        tb_log_name: str = "RLTuner",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> RLTuner:
        """Train for ``total_timesteps`` environment steps (SB3 semantics).

        :param total_timesteps: environment steps (each vector step counts N).
        :param callback: SB3 callback(s), run after each vector step.
        :param log_interval: dump the logger every this many finished melodies (``None``: never).
        :param tb_log_name: tensorboard run name.
        :param reset_num_timesteps: ``False`` continues counters, ε schedule and melodies in progress.
        :param progress_bar: show SB3's progress bar.
        :raises NaNLossError: a loss or gradient became NaN/inf; the networks are restored to the last good
            state (also written to ``nan_checkpoint_path`` when set).
        """
        if self.env is None:
            raise ValueError("this RLTuner has no env; pass one to the constructor, set_env() or load(path, env=...)")
        self.start_time = time.time_ns()
        if reset_num_timesteps:
            self.num_timesteps = self._episode_num = 0
            self.ep_info_buffer.clear()
        else:
            total_timesteps += self.num_timesteps
        self._total_timesteps = total_timesteps
        self._num_timesteps_at_start = self.num_timesteps
        if reset_num_timesteps or self._last_obs is None:
            self._reset_env()
        if not self._custom_logger:
            self._logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        callback = self._init_callback(callback, progress_bar)
        callback.on_training_start(locals(), globals())
        last_dump = self._episode_num
        while self.num_timesteps < total_timesteps:
            callback.on_rollout_start()
            keep_going = self._rollout_step(callback)
            callback.on_rollout_end()
            if not keep_going:
                break
            self._train()
            if log_interval is not None and self._episode_num // log_interval > last_dump // log_interval:
                last_dump = self._episode_num
                self.dump_logs()
        callback.on_training_end()
        return self

    def _init_callback(self, callback: MaybeCallback, progress_bar: bool) -> BaseCallback:
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

    def _reset_env(self) -> None:
        self._last_obs = self.env.reset()
        n = self.env.num_envs
        self._state = self.networks.q_net.initial_state(n)
        self._log_prior = self.networks.log_prior(torch.as_tensor(self._last_obs["h"], dtype=torch.float32))
        self._ep_return = np.zeros(n)
        self._ep_len = np.zeros(n, dtype=np.int64)

    @torch.no_grad()
    def _rollout_step(self, callback: BaseCallback) -> bool:
        """One vector step: act on every melody, step the env, store the transitions. False = stop."""
        notes = torch.as_tensor(self._last_obs["note"], dtype=torch.long).reshape(-1)  # (N,)
        h, c = self._state
        values, next_state = self.networks.values(notes, (h, c))  # (N, 38)
        log_prior = self._log_prior  # (N, 38) log p(·|s)
        logits = policy_logits(self.algorithm, values, log_prior)
        actions = self.exploration_strategy.select(logits, self.num_timesteps, self._generator)
        new_obs, rewards, dones, infos = self.env.step(actions.numpy())
        self.num_timesteps += self.env.num_envs
        callback.update_locals(locals())
        if not callback.on_step():
            return False
        next_log_prior = self.networks.log_prior(torch.as_tensor(new_obs["h"], dtype=torch.float32))
        done = torch.as_tensor(dones, dtype=torch.bool)
        reward = torch.as_tensor(rewards, dtype=torch.float32)
        self.replay_buffer.add(notes, h, c, actions, reward, done, next_log_prior if self.algorithm == "g" else None)
        keep = (~done).to(torch.float32).unsqueeze(1)  # a finished melody restarts from the zero state
        self._state = (next_state[0] * keep, next_state[1] * keep)
        self._log_prior = next_log_prior  # new_obs holds the reset observation where done
        self._last_obs = new_obs
        self._ep_return += rewards
        self._ep_len += 1
        for i in np.flatnonzero(dones):
            self.ep_info_buffer.append({"r": float(self._ep_return[i]), "l": int(self._ep_len[i])})
            self._episode_num += 1
        self._ep_return[dones] = 0.0
        self._ep_len[dones] = 0
        return True

    def _train(self) -> None:
        """The gradient steps owed: one per ``train_freq`` environment steps since ``learning_starts``."""
        if self.num_timesteps < self.learning_starts or len(self.replay_buffer) < self.batch_size:
            return
        self._grad_credit += self.env.num_envs / self.train_freq
        k = int(self._grad_credit)
        if k == 0:
            return
        self._grad_credit -= k
        batch = self.replay_buffer.sample(self.batch_size, k, self._generator)
        stats = torch.empty(k, 3)  # loss, grad norm, mean value of the actions taken
        for i in range(k):
            stats[i] = self._gradient_step(batch, i)
        if not torch.isfinite(stats).all():
            self._on_nan(stats)
        self._good_state.capture()
        self._n_updates += k
        mean = stats.mean(0)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record_mean("train/loss", float(mean[0]))
        self.logger.record_mean("train/grad_norm", float(mean[1]))
        self.logger.record_mean("train/q_mean", float(mean[2]))

    @torch.no_grad()
    def _gradient_step(self, batch: ReplayBatch, i: int) -> torch.Tensor:
        """One step on ``(y − V(s, a; θ))²`` from the stored recurrent state, then θ⁻ ← lerp(θ⁻, θ, η).

        The gradient is written by hand (:mod:`agents.backprop`), the same numbers as autograd.
        """
        value, h1, c1, cache = forward_taken(self._q_params, batch.note[i], batch.h[i], batch.c[i], batch.action[i])
        next_values = self.networks.target_values(batch.action[i], (h1, c1))  # (B, 38) at s'
        if self.algorithm == "g":
            y = g_target(batch.reward[i], next_values, batch.next_log_prior[i], batch.done[i], self.gamma)
        else:
            y = self._target_fn(batch.reward[i], next_values, batch.done[i], self.gamma)
        error = value - y
        backward_taken(self._q_params, cache, error * (2.0 / error.shape[0]), self._grads)  # ∂ mean(error²)
        grad_norm = torch.nn.utils.clip_grad_norm_(self._q_params, self.max_grad_norm, foreach=True)
        self.optimizer.step()
        self.networks.soft_update(self.tau)
        return torch.stack([error.square().mean(), grad_norm, value.mean()])

    def _on_nan(self, stats: torch.Tensor) -> None:
        self._good_state.restore()
        where = ""
        if self.nan_checkpoint_path is not None:
            where = f"; the last good state was written to {self.save(self.nan_checkpoint_path)}"
        raise NaNLossError(
            f"{self.algorithm!r} training produced a non-finite loss or gradient (loss, grad norm, mean value per "
            f"step: {stats.tolist()}) after {self.num_timesteps} environment steps and {self._n_updates} gradient "
            f"steps. The networks were restored to the last good state{where}. Lower learning_rate, raise c, or "
            "check the env's rewards for NaN/inf."
        )

    def dump_logs(self) -> None:
        """Write the logger's values (SB3's off-policy keys plus ``rollout/exploration_rate``)."""
        elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        logger = self.logger
        logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        if self.ep_info_buffer:
            logger.record("rollout/ep_rew_mean", safe_mean([ep["r"] for ep in self.ep_info_buffer]))
            logger.record("rollout/ep_len_mean", safe_mean([ep["l"] for ep in self.ep_info_buffer]))
        logger.record("rollout/exploration_rate", self.exploration_rate)
        logger.record("time/fps", int((self.num_timesteps - self._num_timesteps_at_start) / elapsed))
        logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        logger.dump(step=self.num_timesteps)

    # ------------------------------------------------------------------------------------ inference
    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: tuple[np.ndarray, np.ndarray] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Actions for env observations, carrying the Q network's LSTM state like SB3's recurrent policies.

        :param observation: ``MelodyCompose-v0`` observation (one env or a batch).
        :param state: the second value returned by the previous call (``None`` at the start).
        :param episode_start: True where a new melody starts (its LSTM state restarts from zeros).
        :param deterministic: argmax of the policy; otherwise sample it (softmax of Q / Ψ / G + log p).
        :return: ``(actions, state)``.
        """
        return predict_actions(
            self.networks, self.algorithm, observation, state, episode_start, deterministic, self._generator
        )

    def generate(
        self,
        n: int,
        temperature: float | str = 1.0,
        seed: int | None = None,
        primer: Primer = None,
        length: int | None = None,
    ) -> np.ndarray:
        """Compose ``n`` melodies at once (SPEC §7): sample softmax(values / T) each step.

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
        return compose(self.networks, self.algorithm, n, length, temperature, generator, primer)

    def next_note_probabilities(self, melody: np.ndarray, primer: int) -> np.ndarray:
        """The policy's next-note distribution along ``melody`` (paper Figure 4).

        :param melody: ``(T,)`` classes. :param primer: the note fed before the melody.
        :return: ``(T, 38)``; row t is π(·|primer, melody[:t]).
        """
        return next_note_probabilities(self.networks, self.algorithm, melody, primer)

    # ------------------------------------------------------------------------------------ save/load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the agent to one zip file of safetensors + JSON (no pickle); ``.zip`` is added without suffix.

        Holds the three networks, Adam's state, the random generator, counters and hyperparameters (not
        the replay buffer or the env), so ``load`` + ``learn(reset_num_timesteps=False)`` continues the ε
        schedule and the gradient-step ratio.
        """
        return save_agent(path, *agent_state(self))

    @classmethod
    def load(cls, path: str | os.PathLike, env: Any = None, **overrides: Any) -> RLTuner:
        """Rebuild an agent written by :meth:`save`.

        :param path: the file (``.zip`` may be omitted).
        :param env: env to continue training on (same forms as the constructor), or ``None``.
        :param overrides: hyperparameters to change (e.g. ``learning_rate``).
        :raises CheckpointError: missing, damaged or foreign file.
        """
        tensors, data = load_agent(path)
        try:
            kwargs = {**data["hyperparameters"], **data["settings"], **overrides}
            agent = cls(data["algorithm"], env, note_rnn=NoteRNN(NoteRNNConfig(**data["note_rnn_config"])), **kwargs)
            restore_agent_state(agent, tensors, data)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} does not describe an RLTuner this code can rebuild ({exc})") from exc
        if env is None:
            agent.melody_length = data["melody_length"]
        agent._good_state.capture()
        return agent


__all__ = ["REWARD_MODE", "RLTuner"]
