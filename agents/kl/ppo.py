"""KLPPO: KL-regularised policy gradient on any generic env (PPO or RLOO), with Stable-Baselines3's API.

The on-policy counterpart of Ψ and G learning: the same objective, the paper's Eq. 9
``E_π[Σ_t rMT/c − KL[π ‖ p]]``, solved by the methods RLHF uses to tune a pretrained sequence model
against a frozen reference (Ziegler et al. 2019; TRL's PPO and RLOO trainers):

- every note earns ``rMT/c + log p(a|s) − log π(a|s)`` (:func:`agents.kl.objectives.kl_penalised_reward`),
  with ``log p(a|s)`` and ``rMT`` read from the env's ``info`` (so any ``reward_mode`` of the env works,
  and the env's own reward is not used; c is the env's unless given);
- ``algorithm="ppo"``: GAE(γ, λ) advantages from a value head, then PPO's clipped objective, per note;
- ``algorithm="rloo"``: k melodies per primer, the melody return ``Σ_t r_t`` against the mean return of
  the other k − 1 (leave-one-out), and TRL's clipped objective on the melody's probability ratio. With
  ``n_epochs=1`` and one minibatch this is plain REINFORCE with the leave-one-out baseline.

The network (:class:`agents.kl.policy.KLActorCritic`) is a copy of the env's prior (the Note RNN for
``MelodyCompose-v0``); a rollout is whole episodes (:mod:`agents.kl.rollout`) and every minibatch runs
the prior over each episode from its start.
``c="auto"`` with ``target_kl`` moves c after every rollout so that the KL per note tracks the target
(:class:`agents.adaptive_c.AdaptiveC`).
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import configure_logger
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from agents.adaptive_c import make_c_controller
from agents.kl.policy import KLActorCritic
from agents.kl.rollout import collect_rollout, grouped_vector_env
from agents.kl.rollout_update import GoodState, train_on_rollout
from agents.kl.saving import check_kl_checkpoint, kl_agent_state, load_kl_agent
from agents.saving import load_agent, save_agent
from agents.sb3_agent import SB3Agent
from agents.vec_env import as_vec_env, check_same_prior, env_attribute, env_prior, env_task, n_envs_for
from sequence_env.envs.batch import observation_space
from sequence_env.task import SequenceTask
from sequence_env.threads import DEFAULT_TORCH_THREADS, check_torch_threads

KL_ALGORITHMS = ("ppo", "rloo")
POLICIES = (
    "PriorPolicy",
    "NoteRNNPolicy",
    "MultiInputLstmPolicy",
)  # one network, three names (melodies', sb3-contrib's)
TOKENS_PER_ROLLOUT = 2_048  # n_steps=None: whole episodes per row adding up to at least this (SB3 PPO's 2048)
_AS_Q = "q"  # agents.inference samples softmax(values) for "q": our "values" are the policy's logits
_ENV_REWARD = "q"  # an id string's env is built with Q's reward, Eq. 3 (KLPPO itself reads info)


class KLPPO(SB3Agent):
    """Tune a pretrained prior with KL-regularised policy gradient (paper Eq. 9), PPO or RLOO.

    :param policy: ``"PriorPolicy"`` (or the melody name ``"NoteRNNPolicy"``, or sb3-contrib's
        ``"MultiInputLstmPolicy"``): the recurrent
        actor-critic of :class:`agents.kl.policy.KLActorCritic`; SB3's positional first argument.
    :param env: a generic env (``gym.make("MelodyCompose-v0")``: run as ``n_envs`` rows with its settings), its
        Gymnasium vector env, an SB3 ``VecEnv`` of it, the id string (``n_envs`` rows), or ``None``.
        Any ``reward_mode``: the env's reward is not used (an id string's env reports Eq. 3, which
        ``VecMonitor`` and ``EvalCallback`` show).
    :param algorithm: ``"ppo"`` or ``"rloo"``.
    :param c: the weight of the prior against the rules, or ``"auto"`` to move it so that the KL per note
        tracks ``target_kl`` (starting from ``c_init``); ``None``: the env's ``c`` (paper and default: 0.5).
    :param target_kl: KL[π ‖ p] per note (nats) for ``c="auto"``. Unlike SB3's PPO it does not stop epochs early.
    :param c_init: where ``c="auto"`` starts. :param c_horizon: the controller's horizon H in notes.
    :param c_k_p: the controller's gain (Ziegler et al.: 0.1).
    :param learning_rate: Adam step size (constant).
    :param n_steps: vector steps per rollout, a multiple of the melody length; ``None``: the fewest whole
        melodies per row giving at least 2,048 notes (64 rows: 32 steps, one melody each).
    :param batch_size: melodies per minibatch (SB3 counts transitions; here minibatches are whole melodies).
    :param n_epochs: passes over each rollout. :param gamma: discount γ (1: Eq. 9's plain sum over the melody).
    :param gae_lambda: GAE's λ (PPO only). :param clip_range: PPO's ε (RLOO: on the melody's ratio).
    :param normalize_advantage: standardise advantages per minibatch (SB3's default).
    :param ent_coef: weight of an extra entropy bonus (Eq. 9's −log π already rewards entropy: default 0).
    :param max_grad_norm: gradient-norm clip, applied to the actor's and the value head's gradients
        separately (value gradients never reach the actor, so SB3's ``vf_coef`` has no role here).
    :param rloo_k: melodies per primer for RLOO (≥ 2; the env's rows must be a multiple).
    :param value_hidden: hidden units of the value head.
    :param prior: the pretrained prior (:mod:`sequence_env.prior`); ``None`` takes the env's Reward RNN.
    :param n_envs: rows in parallel for an id string or a ``gym.make`` env (``None``: 64).
    :param env_kwargs: extra ``gym.make_vec`` arguments when ``env`` is an id string.
    :param nan_checkpoint_path: where to write the last good state if a loss turns NaN (``None``: memory only).
    :param tensorboard_log: tensorboard folder (``None``: none). :param verbose: 0 silent, 1 logs to stdout.
    :param seed: seeds the env, the value head's initial weights, the draws and the minibatches.
    :param device: ``"cpu"`` or ``"auto"`` (the networks are tiny LSTMs; they run on the CPU).
    :param torch_threads: torch threads inside the agent's calls (``None``: torch's global setting).
    :param max_length: tokens per episode when ``env`` is ``None`` (an env sets its own).
    """

    LOG_NAME: ClassVar[str] = "KLPPO"

    def __init__(
        self,
        policy: str = "PriorPolicy",
        env: Any = None,
        *,
        algorithm: str = "ppo",
        c: float | str | None = None,
        target_kl: float | None = None,
        c_init: float = 0.5,
        c_horizon: float = 1_000,
        c_k_p: float = 0.1,
        learning_rate: float = 3e-4,
        n_steps: int | None = None,
        batch_size: int = 16,
        n_epochs: int = 4,
        gamma: float = 1.0,
        gae_lambda: float = 0.95,
        clip_range: float = 0.2,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        max_grad_norm: float = 0.5,
        rloo_k: int = 4,
        value_hidden: int = 64,
        prior: nn.Module | None = None,
        n_envs: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        nan_checkpoint_path: str | os.PathLike | None = None,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: str = "cpu",
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
        max_length: int | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES} (the prior's actor-critic), got {policy!r}")
        if algorithm not in KL_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {KL_ALGORITHMS}, got {algorithm!r}")
        if str(device) not in ("cpu", "auto"):
            raise ValueError(f"KLPPO runs its tiny LSTMs on the CPU; pass device='cpu' (got {device!r})")
        for name, value, low in (("batch_size", batch_size, 1), ("n_epochs", n_epochs, 1), ("rloo_k", rloo_k, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if n_steps is not None and (isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1):
            raise ValueError(
                f"n_steps must be a positive int (a multiple of the melody length) or None, got {n_steps!r}"
            )
        if c is not None:  # refuse a bad c or target_kl before building anything
            make_c_controller(c, target_kl, c_horizon, c_k_p, c_init)
        self.policy_name, self.algorithm = policy, algorithm
        self.hyperparameters = {
            "c": c, "target_kl": target_kl, "c_init": float(c_init), "c_horizon": float(c_horizon),
            "c_k_p": float(c_k_p), "learning_rate": float(learning_rate), "n_steps": n_steps,
            "batch_size": batch_size, "n_epochs": n_epochs, "gamma": float(gamma), "gae_lambda": float(gae_lambda),
            "clip_range": float(clip_range), "normalize_advantage": bool(normalize_advantage),
            "ent_coef": float(ent_coef), "max_grad_norm": float(max_grad_norm), "rloo_k": rloo_k,
            "value_hidden": value_hidden, "n_envs": n_envs, "seed": seed,
        }  # fmt: skip
        self.__dict__.update({k: v for k, v in self.hyperparameters.items() if k not in ("c", "n_steps")})
        self.nan_checkpoint_path, self.tensorboard_log, self.verbose = nan_checkpoint_path, tensorboard_log, verbose
        self.torch_threads = check_torch_threads(torch_threads)
        with self._threads():  # copying the prior off the caller's threads (RLTuner's constructor says why)
            self.env: VecEnv | None = None
            self.task: SequenceTask | None = None
            self.max_length, self.n_steps = max_length, n_steps
            if env is not None:
                self._set_env(env, n_envs, env_kwargs)
            if c is None:  # the env's c, as RLTuner takes it
                c = (env_attribute(self.env, "c") if self.env is not None else None) or 0.5
                self.hyperparameters["c"] = c
            self.c_controller = make_c_controller(c, target_kl, c_horizon, c_k_p, c_init)
            if prior is None:
                prior = env_prior(self.env) if self.env is not None else None
                if prior is None:
                    raise ValueError("KLPPO needs an env or a prior to tune; pass env='MelodyCompose-v0', say")
            if self.env is not None:
                check_same_prior(prior, self.env)  # the env's log p must be the prior the actor starts from
            if self.max_length is None:
                raise ValueError("KLPPO without an env needs max_length (tokens per episode)")
            if seed is None:
                seed = int(torch.randint(2**62, ()).item())
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)  # the value head's initial weights, without touching the caller's generator
                self.policy = KLActorCritic(prior, self.max_length, value_hidden)
            trained = [
                *self.policy.actor.parameters(),
                *(self.policy.critic.parameters() if algorithm == "ppo" else ()),
            ]
            self.optimizer = torch.optim.Adam(trained, lr=self.learning_rate, fused=True)
            self._generator = torch.Generator().manual_seed(seed)
        self.num_timesteps = self._total_timesteps = self._episode_num = self._n_updates = 0
        self._last_obs: dict[str, np.ndarray] | None = None
        self._logger: Logger | None = None
        self._custom_logger = False
        self.ep_info_buffer: deque = deque(maxlen=100)
        with self._threads():
            self._good_state = GoodState(self)  # copies of the weights

    # --------------------------------------------------------------------------------- SB3 duck type
    def _composer(self) -> tuple[nn.Module, str]:
        """The actor, whose logits are the policy's (sampled as Q's values are)."""
        return (self.policy, _AS_Q)

    @property
    def c(self) -> float:
        """The current c (fixed, or where ``c="auto"`` has moved it)."""
        return self.c_controller.c

    @property
    def observation_space(self) -> spaces.Dict:
        """The env's observation space (without an env, its task's with one-token primers)."""
        if self.env is not None:
            return self.env.observation_space
        return observation_space(self._task(), self.policy.prior, 1)

    def set_env(self, env: Any) -> None:
        """Train on ``env`` from now on (same forms as the constructor, same episode length); episodes restart."""
        with self._threads():
            self._set_env(env, n_envs_for(env, self.n_envs), None, self.policy.prior)

    def _set_env(
        self, env: Any, n_envs: int | None, env_kwargs: dict[str, Any] | None, prior: nn.Module | None = None
    ) -> None:
        """Convert and check ``env``; with ``prior`` (an existing agent's) it must match the env and its length."""
        venv = as_vec_env(env, _ENV_REWARD, n_envs, env_kwargs, self.seed)
        length = int(venv.observation_space["position"].n) - 1
        if prior is not None:
            check_same_prior(prior, venv)  # the env's log p must be the prior the actor started from
            if length != self.max_length:
                raise ValueError(f"the env writes {length}-token episodes, this agent {self.max_length}-token ones")
        requested = self.hyperparameters["n_steps"]
        n_steps = -(-TOKENS_PER_ROLLOUT // (venv.num_envs * length)) * length if requested is None else requested
        if n_steps % length:
            raise ValueError(f"n_steps ({n_steps}) must be a multiple of the episode length {length} (whole episodes)")
        self._vector_env = grouped_vector_env(venv, self.rloo_k) if self.algorithm == "rloo" else None
        self.env, self._last_obs, self.max_length, self.n_steps = venv, None, length, n_steps
        self.task = env_task(venv)

    # ------------------------------------------------------------------------------------- learning
    def learn(
        self,
        total_timesteps: int,
        callback: Any = None,
        log_interval: int | None = 1,
        tb_log_name: str = "KLPPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> KLPPO:
        """Train for at least ``total_timesteps`` environment steps, in whole rollouts (SB3 semantics).

        :param total_timesteps: environment steps (each vector step counts N).
        :param callback: SB3 callback(s), run after each vector step.
        :param log_interval: dump the logger every this many rollouts (``None``: never).
        :param tb_log_name: tensorboard run name.
        :param reset_num_timesteps: ``False`` continues the counters.
        :param progress_bar: show SB3's progress bar.
        :raises NaNLossError: a loss or gradient became NaN/inf; the networks are restored to the last good
            state (also written to ``nan_checkpoint_path`` when set).
        """
        if self.env is None:
            raise ValueError("this KLPPO has no env; pass one to the constructor, set_env() or load(path, env=...)")
        with self._threads():
            self.start_time = time.time_ns()
            if reset_num_timesteps:
                self.num_timesteps = self._episode_num = 0
                self.ep_info_buffer.clear()
            else:
                total_timesteps += self.num_timesteps
            self._total_timesteps, self._num_timesteps_at_start = total_timesteps, self.num_timesteps
            if reset_num_timesteps or self._last_obs is None:
                self._last_obs = self.env.reset()
            if not self._custom_logger:
                self._logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
            callback = self._init_callback(callback, progress_bar)
            callback.on_training_start(locals(), globals())
            iteration = 0
            while self.num_timesteps < total_timesteps:
                rollout = collect_rollout(self, callback)
                if rollout is None:
                    break
                iteration += 1
                train_on_rollout(self, rollout)
                if log_interval is not None and iteration % log_interval == 0:
                    self.dump_logs(iteration)
            callback.on_training_end()
        return self

    def dump_logs(self, iteration: int = 0) -> None:
        """Write the logger's values (SB3's on-policy keys; ``rollout/ep_rew_mean`` is Eq. 9's return)."""
        self._dump({"time/iterations": iteration}, {})

    # ------------------------------------------------------------------------------------ save/load
    def get_parameters(self) -> dict[str, dict]:
        """SB3's layout: ``{"policy": state_dict, "policy.optimizer": Adam's state_dict}``."""
        with self._threads():
            return {"policy": self.policy.state_dict(), "policy.optimizer": self.optimizer.state_dict()}

    def set_parameters(
        self, load_path_or_dict: str | os.PathLike | dict[str, Any], exact_match: bool = True, device: str = "auto"
    ) -> None:
        """Load the networks (and Adam's state, if given) from :meth:`get_parameters` or a saved file.

        :param load_path_or_dict: a file written by :meth:`save`, or a dict like :meth:`get_parameters`'.
        :param exact_match: refuse missing or unexpected tensors. :param device: ignored (CPU only).
        """
        with self._threads():
            if isinstance(load_path_or_dict, dict):
                self.policy.load_state_dict(load_path_or_dict["policy"], strict=exact_match)
                if "policy.optimizer" in load_path_or_dict:
                    self.optimizer.load_state_dict(load_path_or_dict["policy.optimizer"])
            else:
                tensors, data = load_agent(load_path_or_dict)
                check_kl_checkpoint(load_path_or_dict, data)
                self.policy.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, exact_match)
            self._good_state.capture()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the agent to one zip of safetensors + JSON (no pickle, atomic); ``.zip`` added without suffix.

        Holds the networks, Adam's state, the random generator, c (and its controller), counters and
        hyperparameters (not the env), so ``load`` + ``learn(reset_num_timesteps=False)`` continues.
        """
        with self._threads():
            return save_agent(path, *kl_agent_state(self))

    @classmethod
    def load(cls, path: str | os.PathLike, env: Any = None, **overrides: Any) -> KLPPO:
        """Rebuild an agent written by :meth:`save`.

        :param path: the file (``.zip`` may be omitted). :param env: env to continue training on, or ``None``.
        :param overrides: hyperparameters to change (e.g. ``learning_rate``); a c setting (``c``,
            ``target_kl``, ``c_init``, ``c_horizon``, ``c_k_p``) starts c afresh instead of continuing the saved c.
        :raises CheckpointError: missing, damaged or foreign file.
        """
        return load_kl_agent(cls, path, env, overrides)


__all__ = ["KLPPO", "KL_ALGORITHMS", "POLICIES", "TOKENS_PER_ROLLOUT"]
