"""RLTuner: Q, Ψ, G learning and the RL-only baseline with Stable-Baselines3's API (docs/spec.md §5, §6, §10).

``RLTuner(algorithm, env, **hyperparameters)`` duck-types SB3's ``BaseAlgorithm`` (``learn``,
``predict``, ``save``/``load``, ``get_env``, ``num_timesteps``, ``logger``, callbacks, ``policy``,
``get_parameters``/``set_parameters``) without subclassing it: SB3's replay stores observations, while
RL Tuner's stores the Q network's own LSTM state and trains one recurrent step from it (docs/spec.md §5).
Defaults are the paper's (docs/spec.md §6). :mod:`agents.algorithms` has the SB3-style constructors with the
algorithm fixed (``QTuner(policy, env, ...)``), which rl-zoo3 can hold in its ``ALGOS``.

The tuner knows no instance: it tunes the prior of any generic env (:mod:`sequence_env`; melodies are
``MelodyCompose-v0``), taking the network from the env's prior, the sizes from its spaces, and the
primers and decoding from its task. Acting on N rows at once: the Q network steps on (previous token,
its recurrent state), the policy logits (Q, Ψ or G + log p) pick the tokens through ε-greedy or Boltzmann
exploration, the env returns rewards, and N transitions enter the replay. Gradient steps keep the paper's
ratio: one batch of 32 per 5 environment steps, i.e. N/5 per vector step. Each gradient step regresses the value of the
action taken onto its target (:mod:`agents.step.targets`, Eq. 4, 11, 13) and then soft-updates the target
network (η = 0.01).
"""

from __future__ import annotations

import copy
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import configure_logger
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from agents.adaptive_c import AdaptiveC, make_c_controller
from agents.buffer import RecurrentReplayBuffer
from agents.exploration import (
    Boltzmann,
    EpsilonGreedy,
    check_exploration_schedule,
    exploration_duration,
    make_exploration,
)
from agents.networks import TunerNetworks, check_algorithm, kl_and_entropy, policy_logits
from agents.population import LockStep
from agents.prior_drift import make_prior_drift
from agents.saving import agent_state, load_agent, prior_of, restore_agent_state, save_agent, task_of
from agents.sb3_agent import SB3Agent
from agents.sb3_policy import (
    RLTunerPolicy,
    check_device,
    check_policy,
    learning_rate_schedule,
    load_parameters,
)
from agents.step.update import CLIP_MODES, AdamState
from agents.training_state import NaNLossError
from agents.vec_env import (
    DEFAULT_N_ENVS,
    algorithm_reward,
    as_vec_env,
    check_same_prior,
    env_attribute,
    env_prior,
    env_task,
    n_envs_for,
    reward_parts,
)
from sequence_env.checkpoint import CheckpointError
from sequence_env.envs.batch import observation_space
from sequence_env.prior import AutoregressivePrior
from sequence_env.task import SequenceTask
from sequence_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads

MaybeCallback = BaseCallback | list[BaseCallback] | Any | None


class RLTuner(SB3Agent):
    """Tune a pretrained prior with reinforcement learning (paper §3): a Note RNN, or any task's prior.

    One env serves every algorithm: each takes the reward it needs from the env's ``info`` and ``c``
    (docs/spec.md §5; :func:`agents.vec_env.algorithm_reward`), whatever the env's ``reward_mode``.

    :param algorithm: ``"q"`` (Eq. 4), ``"psi"`` (Eq. 11), ``"g"`` (Eq. 13) or ``"rl_only"``.
    :param env: an env id string such as ``"MelodyCompose-v0"`` or ``"SequenceTune-v0"`` (``n_envs`` rows),
        a single env from ``gym.make`` (turned into ``n_envs`` parallel rows with its task and settings:
        prior, c, terms, length, primer; the env object itself is not stepped), a single env under other
        wrappers (run alone, n_envs 1), its Gymnasium vector form or an SB3 ``VecEnv`` (n_envs is their
        ``num_envs``), or ``None``.
    :param policy: the policy's name, SB3 style: ``"RLTunerPolicy"``, ``"MultiInputLstmPolicy"`` or
        ``"MultiInputPolicy"``, all the recurrent Q network initialised from the prior.
    :param learning_rate: Adam step size (docs/spec.md §6: 1e-3), or an SB3 schedule (a callable of the progress
        remaining, 1 → 0) followed during ``learn``; ``save`` keeps its initial value.
    :param buffer_size: replay capacity in transitions (docs/spec.md §6: 100,000).
    :param batch_size: transitions per gradient step (docs/spec.md §6: 32).
    :param gamma: discount γ (docs/spec.md §6: 0.5).
    :param tau: target-network soft-update rate η after every gradient step (docs/spec.md §6: 0.01).
    :param train_freq: environment steps per gradient step (docs/spec.md §6: 5).
    :param learning_starts: environment steps before the first gradient step (the replay must also hold
        a batch).
    :param max_grad_norm: gradient-norm clip (docs/spec.md §6: 5).
    :param exploration: ``"egreedy"`` (docs/spec.md §6) or ``"boltzmann"`` (sample the policy).
    :param exploration_initial_eps: ε at step 0 (docs/spec.md §6: 1.0).
    :param exploration_final_eps: ε after the ramp (docs/spec.md §6: 0.1).
    :param exploration_fraction: the linear ε ramp spans this share of each ``learn`` call's
        ``total_timesteps`` (``None``: 0.5, the paper's 500,000 of 1,000,000 steps, docs/spec.md §6), so
        every budget finishes exploring by half-way. With ``learn(n, reset_num_timesteps=False)`` the
        share is of the total so far plus ``n`` (SB3's rule): continuing for more steps than were done
        before raises ε again along the longer ramp.
    :param exploration_steps: a fixed ramp length in environment steps instead (whatever the budget;
        kept across ``learn`` calls); not together with ``exploration_fraction``.
    :param boltzmann_temperature: softmax temperature of Boltzmann exploration.
    :param prior: the pretrained prior (an :class:`~sequence_env.prior.AutoregressivePrior` module);
        ``None`` takes the env's Reward RNN. With an env it must be the env's Reward RNN (same weights),
        which gives the rewards and G's prior. Without an env it is required.
    :param n_envs: rows in parallel for an id string or a ``gym.make`` env (``None``: 64); with a
        vector env ``None`` or its ``num_envs``. :attr:`n_envs` reports the env's.
    :param env_kwargs: extra arguments for ``gym.make_vec`` when ``env`` is an id string (e.g. ``c``).
    :param policy_kwargs: SB3's policy arguments; only ``None`` or ``{}`` (the architecture is the prior's).
    :param nan_checkpoint_path: where to write the last good state if a loss turns NaN (``None``: only
        restore it in memory).
    :param tensorboard_log: tensorboard folder (``None``: none).
    :param verbose: 0 silent, 1 logs to stdout.
    :param seed: seeds the env, exploration, replay sampling and ``predict``.
    :param device: ``"auto"`` or ``"cpu"`` (the networks run on the CPU).
    :param torch_threads: torch threads inside the tuner's calls (construction, ``learn``, ``predict``,
        ``generate``, ``load``...), the caller's setting restored after (tiny nets run fastest on 1; and a
        parallel op on the caller's threads would start torch's OpenMP pool, which a forked child deadlocks
        in, see :mod:`sequence_env.threads`); ``None``: torch's global setting.
    :param c: the weight of the rules in the reward the tuner learns from (Eq. 3: ``log p + rMT / c``):
        ``None`` takes the env's ``c`` (docs/spec.md §6: 0.5); a number fixes it; ``"auto"`` starts from the
        env's and moves it so that the policy's KL to the prior per note tracks ``target_kl``
        (:class:`agents.adaptive_c.AdaptiveC`). The replay keeps log p and rMT apart, so every batch uses
        the current c. The env's own reward is not used.
    :param target_kl: the KL per note (nats) that ``c="auto"`` tracks.
    :param clip: ``"global"`` clips the gradient by its norm over all parameters; ``"per_tensor"`` clips each
        parameter tensor to ``max_grad_norm`` separately, as the original implementation did.
    :param bootstrap_last_note: ``True`` bootstraps from the state after an episode's last token, as the
        original did; the default treats it as terminal (docs/spec.md §5).
    :param g_trains_reward_rnn: ``True`` (G only) lets G's loss move the output layer of the tuner's copy of
        the Reward RNN, the prior of G's target and policy, as the original did (:mod:`agents.prior_drift`);
        the env's Reward RNN stays frozen. A tuner with this switch trains alone, not in a Population.
    :param compiled_step: the one-layer LSTM's compiled gradient step (:func:`agents.step.native.use_compiled`):
        ``None`` where it is built, ``True`` required, ``False`` the Python step. Other priors train with
        torch's autograd (:mod:`agents.step.autograd`).
    """

    LOG_NAME: ClassVar[str] = "RLTuner"
    ALGORITHM: ClassVar[str | None] = None
    """The algorithm a subclass fixes (:mod:`agents.algorithms`); ``None``: the first argument."""

    def __init__(
        self,
        algorithm: str,
        env: Any = None,
        *,
        policy: str | type = "RLTunerPolicy",
        learning_rate: float | Callable[[float], float] = 1e-3,
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
        exploration_fraction: float | None = None,
        exploration_steps: int | None = None,
        boltzmann_temperature: float = 1.0,
        prior: nn.Module | None = None,
        n_envs: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        nan_checkpoint_path: str | os.PathLike | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: torch.device | str = "auto",
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
        c: float | str | None = None,
        target_kl: float | None = None,
        clip: str = "global",
        bootstrap_last_note: bool = False,
        g_trains_reward_rnn: bool = False,
        compiled_step: bool | None = None,
    ) -> None:
        self.algorithm = check_algorithm(algorithm)
        self.policy_class = check_policy(policy, policy_kwargs)
        self.device = check_device(device)
        for name, value in (("batch_size", batch_size), ("train_freq", train_freq), ("buffer_size", buffer_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if n_envs is not None and (isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1):
            raise ValueError(f"n_envs must be a positive int, or None for the env's own (64 for an id), got {n_envs!r}")
        if clip not in CLIP_MODES:
            raise ValueError(f"clip must be one of {CLIP_MODES}, got {clip!r}")
        exploration_fraction, exploration_steps = check_exploration_schedule(exploration_fraction, exploration_steps)
        # Hyperparameters (docs/spec.md §6), as attributes and as the dict that save() writes.
        self.lr_schedule = learning_rate_schedule(learning_rate)
        self.learning_rate = self.current_learning_rate = self.lr_schedule(1.0)
        self.buffer_size, self.batch_size, self.train_freq = buffer_size, batch_size, train_freq
        self.gamma, self.tau, self.max_grad_norm = float(gamma), float(tau), float(max_grad_norm)
        self.learning_starts = int(learning_starts)
        self.exploration = exploration
        self.exploration_initial_eps = float(exploration_initial_eps)
        self.exploration_final_eps = float(exploration_final_eps)
        self.exploration_fraction, self.exploration_steps = exploration_fraction, exploration_steps
        self.boltzmann_temperature = float(boltzmann_temperature)
        self.seed = seed
        self._n_envs = n_envs
        self.hyperparameters = {name: getattr(self, name) for name in HYPERPARAMETERS if name != "n_envs"}
        self.hyperparameters["n_envs"] = n_envs
        # Compatibility switches with the original implementation (docs/spec.md §5-§6).
        self.clip, self.bootstrap_last_note = clip, bool(bootstrap_last_note)
        self.g_trains_reward_rnn = bool(g_trains_reward_rnn)
        # Logging, threads and NaN handling.
        self.exploration_strategy = self._exploration(0)
        self.nan_checkpoint_path = nan_checkpoint_path
        self.tensorboard_log = tensorboard_log
        self.verbose = verbose
        self.torch_threads = check_torch_threads(torch_threads)
        # Copying the prior runs parallel copy kernels: on the caller's threads they would start torch's
        # OpenMP pool, which a forked child inherits without its threads and deadlocks in (sequence_env.threads).
        with self._threads():
            self.env: VecEnv | None = None if env is None else as_vec_env(env, self.algorithm, n_envs, env_kwargs, seed)
            self.task: SequenceTask | None = None if self.env is None else env_task(self.env)
            if prior is None:
                prior = env_prior(self.env) if self.env is not None else None
                if prior is None:
                    raise ValueError("RLTuner needs an env or a prior to tune; pass env='MelodyCompose-v0', say")
            elif self.env is not None:
                check_same_prior(prior, self.env)
            if not isinstance(prior, AutoregressivePrior):
                raise TypeError(
                    f"prior must be an autoregressive prior (sequence_env.prior), got {type(prior).__name__}"
                )
            self.max_length: int | None = self.task.max_length if self.task is not None else None
            self.networks = TunerNetworks(prior, compiled_step)
            fresh = AdamState.zeros(1, self.networks.layout.size)
            self.adam = AdamState(fresh.exp_avg[0], fresh.exp_avg_sq[0], fresh.steps)
            self.prior_drift = make_prior_drift(
                self.algorithm, self.networks.reward_rnn, self.current_learning_rate, self.g_trains_reward_rnn
            )
            env_c = env_attribute(self.env, "c") if self.env is not None else None
            env_c = 0.5 if env_c is None else env_c
            self.c_controller = make_c_controller(env_c if c is None else c, target_kl, c_init=env_c)
            vocab = self.networks.vocab_size
            prior_width = vocab if self.prior_drift is None else self.prior_drift.column_width
            self.replay_buffer = RecurrentReplayBuffer(
                buffer_size, self.networks.state_sizes, prior_width, store_prior=self.algorithm == "g"
            )
            self._generator = torch.Generator()
            self._generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
        # Counters and the state between vector steps.
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._episode_num = 0
        self._n_updates = 0
        self._grad_credit = 0.0
        self._last_obs: dict[str, np.ndarray] | None = None
        self._state: tuple[torch.Tensor, ...] = ()
        self._logger: Logger | None = None
        self._custom_logger = False
        self.ep_info_buffer: deque = deque(maxlen=100)
        self._policy: RLTunerPolicy | None = None

    # --------------------------------------------------------------------------------- SB3 duck type
    def _composer(self) -> tuple[nn.Module, str]:
        """The Q network; its values define the policy of the algorithm (Eq. 5, 12, 14)."""
        return (self.networks, self.algorithm)

    def set_env(self, env: Any, force_reset: bool = True) -> None:
        """Train on ``env`` from now on (same forms as the constructor); the episodes in progress restart.

        Its number of rows may differ from the previous env's (the replay holds single steps).

        :param force_reset: accepted for SB3's signature; the episodes always restart.
        :raises ValueError: its Reward RNN is not this tuner's.
        """
        with self._threads():
            venv = as_vec_env(env, self.algorithm, n_envs_for(env, self._n_envs), None, self.seed)
            check_same_prior(self.networks.reward_rnn, venv)
        self.env = venv
        self.task = env_task(venv)
        self.max_length = self.task.max_length
        self._last_obs = None

    @property
    def n_envs(self) -> int:
        """Rows composed in parallel: the env's ``num_envs`` (without an env, what it would get)."""
        if self.env is not None:
            return self.env.num_envs
        return DEFAULT_N_ENVS if self._n_envs is None else self._n_envs

    @property
    def observation_space(self) -> spaces.Space:
        """The env's observation space (without an env, its task's with one-token primers)."""
        if self.env is not None:
            return self.env.observation_space
        return observation_space(self._task(), self.networks.reward_rnn, 1)

    @property
    def optimizer(self) -> AdamState:
        """Adam's state (``state_dict``/``load_state_dict``), the moments of every parameter in one row."""
        return self.adam

    @property
    def policy(self) -> RLTunerPolicy:
        """The networks as an SB3 policy (``parameters()``, ``state_dict()``, ``predict``, ``optimizer``)."""
        if self._policy is None or self._policy.networks is not self.networks:
            self._policy = RLTunerPolicy(self)
        return self._policy

    def get_parameters(self) -> dict[str, dict]:
        """SB3's parameter dicts: ``{"policy": networks' state dict, "policy.optimizer": Adam's}``."""
        with self._threads():
            return {"policy": self.policy.state_dict(), "policy.optimizer": self.optimizer.state_dict()}

    def set_parameters(
        self, load_path_or_dict: str | os.PathLike | dict[str, dict], exact_match: bool = True, device: str = "auto"
    ) -> None:
        """Load parameters (SB3 semantics) from :meth:`get_parameters` output or a file written by :meth:`save`.

        :param load_path_or_dict: the dicts, or the path of a saved tuner (its networks and Adam's state).
        :param exact_match: require both names and every tensor; ``False`` loads what is given.
        :param device: ``"auto"`` or ``"cpu"``.
        :raises ValueError: unknown names, or a Reward RNN other than the env's (the tuner is left as it was).
        """
        check_device(device)
        params = load_path_or_dict
        with self._threads():
            if not isinstance(params, dict):
                params = RLTuner.load(params).get_parameters()
            before = copy.deepcopy(self.get_parameters())
            load_parameters(self, params, exact_match)
            if self.env is not None:
                try:
                    check_same_prior(self.networks.reward_rnn, self.env)
                except ValueError:
                    load_parameters(self, before, exact_match=True)
                    raise

    @property
    def exploration_rate(self) -> float:
        """Current ε (ε-greedy) or temperature (Boltzmann)."""
        return self.exploration_strategy.rate(self.num_timesteps)

    def _exploration(self, total_timesteps: int) -> EpsilonGreedy | Boltzmann:
        """The exploration strategy of a ``learn`` call that trains up to ``total_timesteps`` steps."""
        duration = exploration_duration(total_timesteps, self.exploration_fraction, self.exploration_steps)
        return make_exploration(
            self.exploration, self.exploration_initial_eps, self.exploration_final_eps, duration,
            self.boltzmann_temperature,
        )  # fmt: skip

    def _update_learning_rate(self) -> None:
        """Follow ``lr_schedule`` at the progress remaining, 1 → 0 over the ``learn`` call (SB3's rule)."""
        progress_remaining = 1.0 - self.num_timesteps / self._total_timesteps
        value = self.lr_schedule(progress_remaining)
        self.current_learning_rate = value
        self.logger.record("train/learning_rate", value)

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

        Each vector step: (1) the Q network takes one recurrent step on the tokens just played; (2) the
        policy picks the next tokens with exploration, the env steps, N transitions enter the replay; (3)
        the gradient steps owed run (one batch of ``batch_size`` per ``train_freq`` env steps, Eq. 4, 11, 13);
        (4) the logger dumps every ``log_interval`` finished episodes.

        :param total_timesteps: environment steps (each vector step counts N).
        :param callback: SB3 callback(s), run after each vector step.
        :param log_interval: dump the logger every this many finished episodes (``None``: never).
        :param tb_log_name: tensorboard run name.
        :param reset_num_timesteps: ``False`` continues counters and episodes in progress; the ε ramp then
            spans ``exploration_fraction`` of the steps so far plus ``total_timesteps`` (see the class docs).
        :param progress_bar: show SB3's progress bar.
        :raises NaNLossError: a loss or gradient became NaN/inf; the networks are restored to the last good
            state (also written to ``nan_checkpoint_path`` when set).
        """
        with self._threads():
            lockstep = LockStep([self])  # the (1, P) weights, target network and Adam moments it updates
            hook = self._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
            while self.num_timesteps < self._total_timesteps:
                values, next_states = lockstep.values()  # (1) values (1, N, A) of the state after the last tokens
                if not self._act(values[0], next_states[0], hook):  # (2) act, step the env, store
                    break
                lockstep.train()  # (3) the gradient steps owed
                self._maybe_dump(log_interval)  # (4)
            hook.on_training_end()
        return self

    # ------------------------------------------------------------- the parts of a training step (LockStep)
    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback,
        reset_num_timesteps: bool,
        tb_log_name: str,
        progress_bar: bool,
    ) -> BaseCallback:
        """The start of ``learn``: counters, schedules, env, logger and callbacks; returns the callback to run."""
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
        self.exploration_strategy = self._exploration(total_timesteps)
        if reset_num_timesteps or self._last_obs is None:
            self._reset_env()
        if not self._custom_logger:
            self._logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        callback = self._init_callback(callback, progress_bar)
        callback.on_training_start(locals(), globals())
        self._last_dump = self._episode_num
        return callback

    def _reset_env(self) -> None:
        self._last_obs = self.env.reset()
        n = self.env.num_envs
        self._state = self.networks.initial_state(n)
        self._initial_state = self.networks.initial_state(n)
        self._zero_initial = all(not part.any() for part in self._initial_state)
        self._log_prior = self.networks.log_prior(self._prior_state(self._last_obs))
        self._ep_return = np.zeros(n)
        self._ep_len = np.zeros(n, dtype=np.int64)

    def _prior_state(self, obs: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
        """The env's Reward RNN state in ``obs`` (its named parts), from which log p(·|s) follows."""
        return tuple(torch.as_tensor(obs[name], dtype=torch.float32) for name in self.networks.reward_rnn.state_names)

    def _last_tokens(self) -> torch.Tensor:
        """(N,) int64: the token each row played last (the Q network's next input)."""
        return torch.as_tensor(self._last_obs[self.task.token_key], dtype=torch.long).reshape(-1)

    @torch.no_grad()
    def _act(self, values: torch.Tensor, next_state: tuple[torch.Tensor, ...], callback: BaseCallback) -> bool:
        """One vector step from the Q network's ``values (N, A)``: act, step the env, store. False = stop."""
        callback.on_rollout_start()
        tokens = self._last_tokens()
        state = self._state
        log_prior = self._log_prior  # (N, A) log p(·|s)
        logits = policy_logits(self.algorithm, values, log_prior)
        actions = self.exploration_strategy.select(logits, self.num_timesteps, self._generator)
        new_obs, rewards, dones, infos = self.env.step(actions.numpy())
        self.num_timesteps += self.env.num_envs
        callback.update_locals(locals())
        keep_going = callback.on_step()
        callback.on_rollout_end()
        if not keep_going:
            return False
        step_log_prior, reward_terms = reward_parts(self.env, infos)
        next_prior_state = self._prior_state(new_obs)
        next_log_prior = self.networks.log_prior(next_prior_state)
        prior_column = next_log_prior if self.prior_drift is None else next_prior_state[0]  # h' when the prior drifts
        done = torch.as_tensor(dones, dtype=torch.bool)
        self.replay_buffer.add(
            tokens,
            state,
            actions,
            torch.as_tensor(step_log_prior, dtype=torch.float32),
            torch.as_tensor(reward_terms, dtype=torch.float32),
            done,
            prior_column if self.algorithm == "g" else None,
        )
        self._update_c(logits, log_prior)
        self._state = self._restart_finished(next_state, done)
        self._log_prior = next_log_prior  # new_obs holds the reset observation where done
        self._last_obs = new_obs
        self._ep_return += algorithm_reward(self.algorithm, step_log_prior, reward_terms, self.c)
        self._ep_len += 1
        for i in np.flatnonzero(dones):
            self.ep_info_buffer.append({"r": float(self._ep_return[i]), "l": int(self._ep_len[i])})
            self._episode_num += 1
        self._ep_return[dones] = 0.0
        self._ep_len[dones] = 0
        return True

    def _restart_finished(self, state: tuple[torch.Tensor, ...], done: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The state after this step: a finished episode's row restarts from the initial state."""
        if self._zero_initial:
            keep = (~done).to(torch.float32).unsqueeze(1)
            return tuple(part * keep for part in state)
        return tuple(
            torch.where(done.unsqueeze(1), initial, part)
            for part, initial in zip(state, self._initial_state, strict=True)
        )

    def _update_c(self, logits: torch.Tensor, log_prior: torch.Tensor) -> None:
        """Feed the policy's KL to the prior per token to the c controller (``c="auto"``); log both."""
        if isinstance(self.c_controller, AdaptiveC):
            kl = float(kl_and_entropy(logits, log_prior)[0].mean())
            self.c_controller.update(kl, int(logits.shape[0]))
            self.logger.record_mean("train/kl", kl)
        self.logger.record("train/c", self.c)

    @property
    def c(self) -> float:
        """The current weight of the reward terms (Eq. 3: reward ``log p + r / c``), fixed or adaptive."""
        return self.c_controller.c

    def _owed_gradient_steps(self) -> int:
        """Gradient steps owed after this vector step: one per ``train_freq`` env steps after ``learning_starts``."""
        self._update_learning_rate()
        if self.num_timesteps < self.learning_starts or len(self.replay_buffer) < self.batch_size:
            return 0
        self._grad_credit += self.env.num_envs / self.train_freq
        steps = int(self._grad_credit)
        self._grad_credit -= steps
        return steps

    def _record_updates(self, stats: torch.Tensor) -> None:
        """Log ``stats (S, 3)`` (loss, grad norm, mean value of the actions taken) of S finite gradient steps."""
        self._n_updates += stats.shape[0]
        mean = stats.mean(0)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record_mean("train/loss", float(mean[0]))
        self.logger.record_mean("train/grad_norm", float(mean[1]))
        self.logger.record_mean("train/q_mean", float(mean[2]))

    def _maybe_dump(self, log_interval: int | None) -> None:
        """Dump the logger when ``log_interval`` more episodes have finished since the last dump."""
        if log_interval is not None and self._episode_num // log_interval > self._last_dump // log_interval:
            self._last_dump = self._episode_num
            self.dump_logs()

    def _nan_error(self, stats: torch.Tensor) -> NaNLossError:
        """The error for non-finite ``stats``, after the networks were restored (written out when asked)."""
        where = ""
        if self.nan_checkpoint_path is not None:
            where = f"; the last good state was written to {self.save(self.nan_checkpoint_path)}"
        return NaNLossError(
            f"{self.algorithm!r} training produced a non-finite loss or gradient (loss, grad norm, mean value per "
            f"step: {stats.tolist()}) after {self.num_timesteps} environment steps and {self._n_updates} gradient "
            f"steps. The networks were restored to the last good state{where}. Lower learning_rate, raise c, or "
            "check the env's rewards for NaN/inf."
        )

    def dump_logs(self) -> None:
        """Write the logger's values (SB3's off-policy keys plus ``rollout/exploration_rate``)."""
        self._dump({"time/episodes": self._episode_num}, {"rollout/exploration_rate": self.exploration_rate})

    # ------------------------------------------------------------------------------------ save/load
    def save(self, path: str | os.PathLike) -> Path:
        """Write the agent to one zip file of safetensors + JSON (no pickle); ``.zip`` is added without suffix.

        Holds the three networks, Adam's state, the random generator, counters, hyperparameters, the
        prior's class and shape and the task's name (not the replay buffer or the env), so ``load`` +
        ``learn(reset_num_timesteps=False)`` continues the counters, the ε schedule (see :meth:`load`) and
        the gradient-step ratio.
        """
        with self._threads():
            return save_agent(path, *agent_state(self))

    @classmethod
    def load(cls, path: str | os.PathLike, env: Any = None, **overrides: Any) -> RLTuner:
        """Rebuild an agent written by :meth:`save` (tuners saved by earlier versions of this project included).

        :param path: the file (``.zip`` may be omitted).
        :param env: env to continue training on (same forms as the constructor), or ``None``. Its Reward
            RNN must be the saved one; a saved ``n_envs`` applies to an id string or a ``gym.make`` env.
        :param overrides: hyperparameters to change (e.g. ``learning_rate``); ``exploration_fraction`` replaces
            a saved ``exploration_steps`` and the other way round.
        :raises CheckpointError: missing, damaged or foreign file, or another algorithm than the class fixes.
        :raises ValueError: ``env``'s Reward RNN is not the saved one.

        ``load`` + ``learn(n, reset_num_timesteps=False)`` continues the counters and the gradient-step
        ratio; ε follows the ramp over ``exploration_fraction`` of the saved steps plus ``n`` (or the fixed
        ``exploration_steps``), as in one ``learn`` call of that total.
        """
        tensors, data = load_agent(path)
        algorithm = data.get("algorithm")
        if cls.ALGORITHM is not None and algorithm != cls.ALGORITHM:
            raise CheckpointError(
                f"{path} holds a {algorithm!r} tuner, not {cls.ALGORITHM!r}; load it with RLTuner.load"
            )
        try:
            kwargs = {**data["hyperparameters"], **data["settings"], **overrides}
            ramp = {"exploration_fraction", "exploration_steps"}
            if len(ramp & set(overrides)) == 1:  # the ramp setting given replaces the saved one
                kwargs.update(dict.fromkeys(ramp - set(overrides)))
            kwargs["prior"] = prior_of(data)
            agent = cls(algorithm, **kwargs) if cls.ALGORITHM is None else cls(**kwargs)
            with agent._threads():
                restore_agent_state(agent, tensors, data)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} does not describe an RLTuner this code can rebuild ({exc})") from exc
        agent.task = task_of(data)
        agent.max_length = data.get("max_length", data.get("melody_length"))
        agent._total_timesteps = agent.num_timesteps
        agent.exploration_strategy = agent._exploration(agent.num_timesteps)
        if env is not None:
            agent.set_env(env)
        return agent


HYPERPARAMETERS = (
    "learning_rate", "buffer_size", "batch_size", "gamma", "tau", "train_freq", "learning_starts",
    "max_grad_norm", "exploration", "exploration_initial_eps", "exploration_final_eps", "exploration_fraction",
    "exploration_steps", "boltzmann_temperature", "n_envs", "seed",
)  # fmt: skip
"""The constructor arguments save() keeps as hyperparameters, in the order of the saved JSON."""

__all__ = ["HYPERPARAMETERS", "RLTuner"]
