"""Rollouts of whole episodes for :class:`agents.KLPPO`, and primers shared by groups of rows for RLOO.

Every episode has the same length T and all rows of the vector env start together, so a rollout of
``n_steps`` vector steps (a multiple of T) over N rows is exactly ``N · n_steps / T`` complete episodes.
:class:`RolloutStorage` fills ``(n_steps, N)`` tensors step by step and hands them back as ``(M, T)``
episodes, episode ``m = b · N + row`` for the b-th episode of each row, so that training runs the LSTM
over each episode from its start (no truncated backpropagation through time).

RLOO needs k episodes per prompt; here the prompt is the primer. :func:`share_primers` gives rows
``k·g .. k·g + k − 1`` the primer the env drew for row ``k·g``, by resetting the other rows of the group
with ``reset(options={"reset_mask": ..., "primer": ...})`` before their first token, so a group's
episodes are consecutive in the ``(M, T)`` layout.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from torch import Tensor

from agents.networks import kl_and_entropy
from agents.vec_env import reward_parts
from sequence_env.envs.sb3_vec_env import SequenceSB3VecEnv
from sequence_env.envs.vector import SequenceTuneVectorEnv
from sequence_env.sampling import sample_logits


@dataclass(frozen=True)
class Rollout:
    """Complete episodes, every field ``(M, T)``: row m is episode m, column t its token t."""

    tokens: Tensor  # long: the token fed to the actor before choosing token t (the primer's last token at t = 0)
    actions: Tensor  # long: token t
    log_policy: Tensor  # log π_old(a_t|s_t) of the policy that drew it
    log_prior: Tensor  # log p(a_t|s_t), the env's info["log_prior"]
    reward_terms: Tensor  # r(s_t, a_t), the env's reward terms (info["music_theory"] for melodies)
    values: Tensor  # V(s_t) in reward units (zeros when there is no critic)
    kl: Tensor  # KL[π(·|s_t) ‖ p(·|s_t)] of the full distributions

    @property
    def n_melodies(self) -> int:
        """M."""
        return self.tokens.shape[0]


class RolloutStorage:
    """``(n_steps, N)`` buffers for one rollout.

    :param n_steps: vector steps per rollout, a multiple of ``max_length``.
    :param n_envs: rows N. :param max_length: T.
    """

    def __init__(self, n_steps: int, n_envs: int, max_length: int) -> None:
        if n_steps % max_length:
            raise ValueError(f"n_steps ({n_steps}) must be a multiple of the episode length {max_length}")
        self.n_steps, self.n_envs, self.max_length = n_steps, n_envs, max_length
        self._data = {
            f.name: torch.zeros(n_steps, n_envs, dtype=torch.long if f.name in ("tokens", "actions") else torch.float32)
            for f in fields(Rollout)
        }

    def add(self, step: int, **columns: Tensor) -> None:
        """Store the ``(N,)`` values of vector step ``step`` (keyword per :class:`Rollout` field)."""
        for name, value in columns.items():
            self._data[name][step] = value

    def episodes(self) -> Rollout:
        """The rollout as ``(M, T)`` episodes, ``M = N · n_steps / T``."""
        blocks, length, n = self.n_steps // self.max_length, self.max_length, self.n_envs
        return Rollout(
            **{k: v.view(blocks, length, n).permute(0, 2, 1).reshape(blocks * n, length) for k, v in self._data.items()}
        )


@torch.no_grad()
def collect_rollout(agent: Any, callback: BaseCallback) -> Rollout | None:
    """Run ``agent`` (a :class:`agents.KLPPO`) for ``agent.n_steps`` vector steps of whole episodes.

    Each step feeds the token just played to the actor (from the zero state at an episode's start), draws
    the next token from π, steps the env and runs the callbacks, whose locals hold SB3's names
    (``new_obs``, ``rewards``, ``dones``, ``infos``) and those :class:`~agents.callbacks.TuningStatsCallback`
    reads (``logits``, ``log_prior``: log p(·|s)).

    :return: the rollout, or ``None`` when a callback stopped training (the cut episodes are dropped).
    :raises RuntimeError: the env's rows do not start and end their episodes together.
    """
    env, n, length = agent.env, agent.env.num_envs, agent.max_length
    token_key, names = agent.task.token_key, agent.policy.prior.state_names
    storage = RolloutStorage(agent.n_steps, n, length)
    callback.on_rollout_start()
    obs, state = agent._last_obs, None
    for step in range(agent.n_steps):
        t = step % length
        if t == 0:
            if np.any(np.asarray(obs["position"]) != 0):
                raise RuntimeError(
                    "KLPPO needs every row of the env to start its episodes together; pass an env whose rows "
                    "are reset together (a fresh env, or learn(reset_num_timesteps=True))"
                )
            if agent._vector_env is not None:
                obs = share_primers(agent._vector_env, agent.rloo_k)
            state = None  # every episode starts from the zero LSTM state
        tokens = torch.as_tensor(np.asarray(obs[token_key]), dtype=torch.long).reshape(n)
        logits, values, state = agent.policy.act(tokens, state, torch.full((n,), t))
        prior_state = tuple(
            torch.as_tensor(np.asarray(obs[name]), dtype=torch.float32).reshape(n, -1) for name in names
        )
        log_prior = agent.policy.log_prior(prior_state)
        actions = sample_logits(logits, 1.0, agent._generator)
        new_obs, rewards, dones, infos = env.step(actions.numpy())
        agent.num_timesteps += n
        callback.update_locals(locals())
        if not callback.on_step():
            agent._last_obs = None  # episodes cut short: the next learn() starts new ones
            return None
        end = t == length - 1
        if (np.all(dones) if end else np.any(dones)) != end:  # all rows end at token T, none before
            raise RuntimeError(f"every row of the env must end its episode after exactly {length} tokens, together")
        step_log_prior, reward_terms = reward_parts(env, infos)  # log p(a|s) and the terms of the tokens played
        kl, _ = kl_and_entropy(logits, log_prior)
        storage.add(
            step,
            tokens=tokens,
            actions=actions,
            log_policy=torch.log_softmax(logits, -1).gather(1, actions[:, None])[:, 0],
            log_prior=torch.as_tensor(step_log_prior),
            reward_terms=torch.as_tensor(reward_terms),
            values=values,
            kl=kl,
        )
        obs = new_obs
    agent._last_obs = obs
    callback.update_locals(locals())
    callback.on_rollout_end()
    return storage.episodes()


def grouped_vector_env(venv: VecEnv, k: int) -> SequenceTuneVectorEnv:
    """The batched env under ``venv``, checked to split into groups of ``k`` rows.

    :raises ValueError: ``venv`` is not backed by one :class:`SequenceTuneVectorEnv`, or N is not a
        multiple of ``k``.
    """
    base = venv
    while isinstance(base, VecEnvWrapper):
        base = base.venv
    if not isinstance(base, SequenceSB3VecEnv):
        raise ValueError(
            f"RLOO draws {k} episodes per primer side by side in one batched env: pass an env id with n_envs a "
            f"multiple of {k}, or gym.make_vec(<id>, num_envs=...), not {type(base).__name__}"
        )
    if base.num_envs % k:
        raise ValueError(f"RLOO needs the env's rows ({base.num_envs}) to be a multiple of rloo_k={k}")
    return base.venv


def share_primers(vector_env: SequenceTuneVectorEnv, k: int) -> dict[str, np.ndarray]:
    """Give each group of ``k`` rows its first row's primer; call when every row is before its first token.

    :return: the env's observation after the resets.
    """
    n = vector_env.num_envs
    obs = None
    for leader in range(0, n, k):
        mask = np.zeros(n, dtype=bool)
        mask[leader + 1 : leader + k] = True
        obs, _ = vector_env.reset(options={"reset_mask": mask, "primer": vector_env.core.primers[leader]})
    return obs


__all__ = ["Rollout", "RolloutStorage", "collect_rollout", "grouped_vector_env", "share_primers"]
