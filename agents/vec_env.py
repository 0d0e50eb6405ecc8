"""The env forms the tuners accept, as one SB3 ``VecEnv``, and the reward each algorithm takes from it.

One env serves all four algorithms: every step of a generic env (:mod:`sequence_env`, e.g.
``MelodyCompose-v0``) reports ``log p(a|s)`` and the reward terms' sum r in its ``info``, and the env
holds ``c``, so :func:`reward_parts` and :func:`algorithm_reward` give Q and Ψ ``log p(a|s) + r / c``
(Eq. 3) and G and RL-only ``r / c`` (docs/spec.md §5) whatever the env's own ``reward_mode``.

The forms (:func:`as_vec_env`): an id string becomes ``gym.make_vec`` with ``n_envs`` rows (and the
algorithm's reward as the env's own, so ``VecMonitor`` and ``EvalCallback`` report what it trains on);
a single generic env straight from ``gym.make`` becomes a vector env of ``n_envs`` rows with its task
and settings; a Gymnasium vector env is wrapped with :class:`~sequence_env.envs.sb3_vec_env.SequenceSB3VecEnv`;
a single env under other wrappers runs alone in SB3's ``DummyVecEnv``; an SB3 ``VecEnv`` is used as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.envs.registration import load_env_creator
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper
from torch import nn

from agents.networks import check_algorithm
from agents.step.targets import REWARD_MODE, td_reward
from sequence_env.envs.env import SequenceTuneEnv
from sequence_env.envs.sb3_vec_env import SequenceSB3VecEnv
from sequence_env.envs.vector import SequenceTuneVectorEnv
from sequence_env.plugins import load_env_plugins
from sequence_env.task import SequenceTask

DEFAULT_N_ENVS = 64
_GYM_MAKE_WRAPPERS = (gym.wrappers.PassiveEnvChecker, gym.wrappers.OrderEnforcing)


# ------------------------------------------------------------------------------------------ reward
def algorithm_reward(algorithm: str, log_prior: np.ndarray, reward_terms: np.ndarray, c: float) -> np.ndarray:
    """The reward ``algorithm`` trains on (docs/spec.md §5), in numpy (:func:`agents.step.targets.td_reward`).

    Q and Ψ: ``log p(a|s) + r / c`` (Eq. 3); G and RL-only: ``r / c`` (G uses the prior in its target
    and policy instead).

    :param algorithm: ``"q"``, ``"psi"``, ``"g"`` or ``"rl_only"``.
    :param log_prior: (N,) ``log p(a|s)`` of the tokens played. :param reward_terms: (N,) their r.
    :param c: the env's weight of the prior against the terms.
    :return: (N,) float64.
    """
    return np.asarray(td_reward(check_algorithm(algorithm), log_prior, reward_terms, c), dtype=np.float64)


def reward_parts(venv: VecEnv, infos: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``log p(a|s)`` and the reward terms' sum r of every row at the step that returned ``infos``.

    :param venv: the env that was stepped. :param infos: the per-row ``info`` dicts that step returned.
    :return: ``(log_prior, reward_terms)``, (N,) float64 each (see :func:`info_columns`).
    :raises ValueError: ``infos`` lack the two keys (not a generic sequence env).
    """
    sum_key = env_task(venv).sum_key
    columns = info_columns(venv, infos, ("log_prior", sum_key))
    return columns["log_prior"], columns[sum_key]


def info_columns(venv: VecEnv, infos: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Each of ``keys`` as an (N,) float64 array over the rows of ``infos``.

    On a :class:`SequenceSB3VecEnv` (under any ``VecEnvWrapper``) the batched env's own arrays of that
    step are returned, without reading N dicts; if the first row of ``infos`` disagrees with them (a
    wrapper rewrote it, or ``infos`` come from another step) they are read from ``infos``.

    :raises ValueError: a row lacks one of ``keys``.
    """
    while isinstance(venv, VecEnvWrapper):
        venv = venv.venv
    if isinstance(venv, SequenceSB3VecEnv) and infos:
        step, first = venv.last_step_info, infos[0]
        columns = {key: step.get(key) for key in keys}
        if all(c is not None and len(c) == len(infos) and first.get(k) == c[0] for k, c in columns.items()):
            return {key: np.asarray(column, dtype=np.float64) for key, column in columns.items()}
    try:
        return {key: np.fromiter((info[key] for info in infos), np.float64, len(infos)) for key in keys}
    except KeyError as exc:
        raise ValueError(
            f"the env's step info has no {exc.args[0]!r}; the tuners need an env of sequence_env (such as "
            "MelodyCompose-v0), whose info carries 'log_prior' and the reward terms"
        ) from exc


# ------------------------------------------------------------------------------------- env forms
def as_vec_env(
    env: Any, algorithm: str, n_envs: int | None, env_kwargs: dict[str, Any] | None, seed: int | None
) -> VecEnv:
    """``env`` as an SB3 ``VecEnv`` (see the module docs for each form).

    :param env: id string, Gymnasium ``Env`` or ``VectorEnv``, or SB3 ``VecEnv`` of a generic sequence env.
    :param algorithm: the tuner's algorithm (an id string's env gets its reward mode).
    :param n_envs: rows in parallel for an id string or a single env (``None``: 64); for a vector
        env ``None`` or its ``num_envs``.
    :param env_kwargs: keyword arguments for ``gym.make_vec`` when ``env`` is an id string.
    :param seed: seeds the env's next reset (``None``: unseeded).
    :raises ValueError: not a sequence env, ``n_envs`` the env cannot have, ``env_kwargs`` with an env object.
    """
    n = DEFAULT_N_ENVS if n_envs is None else n_envs
    if isinstance(env, str):
        load_env_plugins(env)  # imports the package that registers the id, e.g. melody_env
        kwargs = {"reward_mode": REWARD_MODE[algorithm], **(env_kwargs or {})}
        env = gym.make_vec(env, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    elif env_kwargs:
        raise ValueError("env_kwargs apply only when env is an id string; pass them to gym.make for an env object")
    if isinstance(env, VecEnv):
        venv = env
    elif isinstance(env, gym.vector.VectorEnv):
        venv = SequenceSB3VecEnv(env)
    elif isinstance(env, gym.Env):
        single = plain_sequence_env(env)
        venv = DummyVecEnv([lambda: env]) if single is None else SequenceSB3VecEnv(vector_env_like(single, n))
    else:
        raise TypeError(
            "env must be an env id such as 'MelodyCompose-v0', a sequence_env env, its vector env or an SB3 "
            f"VecEnv, got {type(env).__name__}"
        )
    if n_envs is not None and venv.num_envs != n_envs:
        raise ValueError(
            f"n_envs={n_envs}, but the env runs {venv.num_envs} rows in parallel (a vector env decides its "
            "own; a single env under wrappers other than gym.make's runs alone); leave n_envs out, or pass "
            f"gym.make_vec(<id>, num_envs={n_envs}) or an unwrapped gym.make env"
        )
    task = env_task(venv)
    if not isinstance(task, SequenceTask) or not isinstance(env_attribute(venv, "c"), float):
        raise ValueError("the env does not expose a sequence_env core (task, c, prior); pass an env of sequence_env")
    _check_spaces(venv, task)
    if seed is not None:
        venv.seed(seed)
    return venv


def plain_sequence_env(env: gym.Env) -> SequenceTuneEnv | None:
    """The :class:`SequenceTuneEnv` under ``env`` if only ``gym.make``'s checks wrap it, else ``None``."""
    while isinstance(env, _GYM_MAKE_WRAPPERS):
        env = env.env
    return env if isinstance(env, SequenceTuneEnv) else None


def vector_env_like(env: SequenceTuneEnv, num_envs: int) -> SequenceTuneVectorEnv:
    """``num_envs`` rows with every setting of ``env``: its task (prior, terms, length, primers), c, reward mode,
    primer bound and threads, as the vector form of its class (``VECTOR_ENV``)."""
    cls = load_env_creator(type(env).VECTOR_ENV)
    vector = cls.__new__(cls)
    vector._init_core(env.core.with_rows(num_envs), env.render_mode)
    return vector


def n_envs_for(env: Any, n_envs: int | None) -> int | None:
    """``n_envs`` for the forms whose number of rows it sets (id string, env from ``gym.make``), else ``None``.

    Lets a saved or earlier ``n_envs`` follow the agent to such an env while other forms keep their own.
    """
    if isinstance(env, str) or (isinstance(env, gym.Env) and plain_sequence_env(env) is not None):
        return n_envs
    return None


def _check_spaces(venv: VecEnv, task: SequenceTask) -> None:
    obs_space = venv.observation_space
    prior = env_attribute(venv, "prior")
    keys = {task.token_key, *prior.state_names}
    if not (isinstance(obs_space, spaces.Dict) and keys <= set(obs_space.spaces)) or venv.action_space != (
        spaces.Discrete(task.vocab_size)
    ):
        raise ValueError(
            f"env must be a sequence env of its task (Dict observation with {sorted(keys)}, "
            f"Discrete({task.vocab_size}) actions), got {obs_space} and {venv.action_space}"
        )


# ------------------------------------------------------------------------------------ env attributes
def env_attribute(venv: VecEnv, name: str) -> Any:
    """An attribute of the sequence core of the first env (``None`` if the env does not expose it)."""
    try:
        core = venv.get_attr("core", indices=[0])[0]
    except (AttributeError, IndexError, TypeError):
        return None
    return getattr(core, name, None)


def env_task(venv: VecEnv) -> SequenceTask | None:
    """The env's task (vocabulary, prior, terms, primers)."""
    task = env_attribute(venv, "task")
    return task if isinstance(task, SequenceTask) else None


def env_prior(venv: VecEnv) -> nn.Module | None:
    """The env's frozen prior (its Reward RNN), which is the network the agent starts from (paper Fig. 1)."""
    prior = env_attribute(venv, "prior")
    return prior if isinstance(prior, nn.Module) else None


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    """Whether two networks have the same parameter names, shapes and values."""
    mine, theirs = a.state_dict(), b.state_dict()
    return mine.keys() == theirs.keys() and all(
        theirs[key].shape == value.shape and torch.equal(theirs[key], value) for key, value in mine.items()
    )


def check_same_prior(prior: nn.Module, venv: VecEnv) -> None:
    """Refuse a prior other than the env's (same weights), which gives the rewards.

    :raises ValueError: they differ: G's target would mix two models and the tuner would start from one
        model while the env scores with another.
    """
    env_rnn = env_prior(venv)
    if env_rnn is None or prior is env_rnn:
        return
    if not same_weights(prior, env_rnn):
        raise ValueError(
            "the prior differs from the env's Reward RNN (other shape or weights), so the rewards and G's prior "
            "would come from another model than the one tuned; leave prior out to tune the env's Reward RNN, "
            "or build the env from that prior"
        )


__all__ = [
    "DEFAULT_N_ENVS",
    "algorithm_reward",
    "as_vec_env",
    "check_same_prior",
    "env_attribute",
    "env_prior",
    "env_task",
    "info_columns",
    "n_envs_for",
    "plain_sequence_env",
    "reward_parts",
    "same_weights",
    "vector_env_like",
]
