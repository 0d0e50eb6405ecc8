"""The env forms RLTuner accepts, as one SB3 ``VecEnv``, and the reward each algorithm takes from it.

One env serves all four algorithms: every ``MelodyCompose-v0`` step reports ``log p(a|s)`` and
``rMT`` in its ``info``, and the env holds ``c``, so :func:`reward_parts` and
:func:`algorithm_reward` give Q and Ψ ``log p(a|s) + rMT / c`` (Eq. 3) and G and RL-only ``rMT / c``
(docs/spec.md §5) whatever the env's own ``reward_mode``.

The forms (:func:`as_vec_env`): an id string becomes ``gym.make_vec`` with ``n_envs`` melodies (and
the algorithm's reward as the env's own, so ``VecMonitor`` and ``EvalCallback`` report what it trains
on); a single ``MelodyCompose-v0`` env straight from ``gym.make`` becomes a
:class:`~melody_env.vector.MelodyComposeVectorEnv` of ``n_envs`` melodies with its settings; a
Gymnasium vector env is wrapped with :class:`~melody_env.sb3_vec_env.MelodySB3VecEnv`; a single env
under other wrappers runs alone in SB3's ``DummyVecEnv``; an SB3 ``VecEnv`` is used as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper

from agents.policies import check_algorithm
from agents.step.targets import REWARD_MODE, td_reward
from melody_env.batch import MelodyBatch
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import NoteRNN
from melody_env.sb3_vec_env import MelodySB3VecEnv
from melody_env.vector import MelodyComposeVectorEnv
from reward_rules.tokens import NUM_CLASSES

DEFAULT_N_ENVS = 64
_GYM_MAKE_WRAPPERS = (gym.wrappers.PassiveEnvChecker, gym.wrappers.OrderEnforcing)


# ------------------------------------------------------------------------------------------ reward
def algorithm_reward(algorithm: str, log_prior: np.ndarray, music_theory: np.ndarray, c: float) -> np.ndarray:
    """The reward ``algorithm`` trains on (docs/spec.md §5), in numpy (:func:`agents.step.targets.td_reward`).

    Q and Ψ: ``log p(a|s) + rMT / c`` (Eq. 3); G and RL-only: ``rMT / c`` (G uses the prior in its target
    and policy instead).

    :param algorithm: ``"q"``, ``"psi"``, ``"g"`` or ``"rl_only"``.
    :param log_prior: (N,) ``log p(a|s)`` of the notes played. :param music_theory: (N,) their ``rMT``.
    :param c: the env's weight of the prior against the rules.
    :return: (N,) float64.
    """
    return np.asarray(td_reward(check_algorithm(algorithm), log_prior, music_theory, c), dtype=np.float64)


def reward_parts(venv: VecEnv, infos: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``log p(a|s)`` and ``rMT`` of every melody at the step that returned ``infos``.

    :param venv: the env that was stepped. :param infos: the per-row ``info`` dicts that step returned.
    :return: ``(log_prior, music_theory)``, (N,) float64 each (see :func:`info_columns`).
    :raises ValueError: ``infos`` lack the two keys (not a ``MelodyCompose-v0`` env).
    """
    columns = info_columns(venv, infos, ("log_prior", "music_theory"))
    return columns["log_prior"], columns["music_theory"]


def info_columns(venv: VecEnv, infos: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Each of ``keys`` as an (N,) float64 array over the rows of ``infos``.

    On a :class:`MelodySB3VecEnv` (under any ``VecEnvWrapper``) the batched env's own arrays of that
    step are returned, without reading N dicts; if the first row of ``infos`` disagrees with them (a
    wrapper rewrote it, or ``infos`` come from another step) they are read from ``infos``.

    :raises ValueError: a row lacks one of ``keys``.
    """
    while isinstance(venv, VecEnvWrapper):
        venv = venv.venv
    if isinstance(venv, MelodySB3VecEnv) and infos:
        step, first = venv.last_step_info, infos[0]
        columns = {key: step.get(key) for key in keys}
        if all(c is not None and len(c) == len(infos) and first.get(k) == c[0] for k, c in columns.items()):
            return {key: np.asarray(column, dtype=np.float64) for key, column in columns.items()}
    try:
        return {key: np.fromiter((info[key] for info in infos), np.float64, len(infos)) for key in keys}
    except KeyError as exc:
        raise ValueError(
            f"the env's step info has no {exc.args[0]!r}; RLTuner needs MelodyCompose-v0, whose info carries "
            "'log_prior', 'music_theory' and 'rules/<name>'"
        ) from exc


# ------------------------------------------------------------------------------------- env forms
def as_vec_env(
    env: Any, algorithm: str, n_envs: int | None, env_kwargs: dict[str, Any] | None, seed: int | None
) -> VecEnv:
    """``env`` as an SB3 ``VecEnv`` (see the module docs for each form).

    :param env: id string, Gymnasium ``Env`` or ``VectorEnv``, or SB3 ``VecEnv`` of ``MelodyCompose-v0``.
    :param algorithm: the tuner's algorithm (an id string's env gets its reward mode).
    :param n_envs: melodies in parallel for an id string or a single env (``None``: 64); for a vector
        env ``None`` or its ``num_envs``.
    :param env_kwargs: keyword arguments for ``gym.make_vec`` when ``env`` is an id string.
    :param seed: seeds the env's next reset (``None``: unseeded).
    :raises ValueError: not a melody env, ``n_envs`` the env cannot have, ``env_kwargs`` with an env object.
    """
    n = DEFAULT_N_ENVS if n_envs is None else n_envs
    if isinstance(env, str):
        import melody_env  # noqa: F401 - registers MelodyCompose-v0

        kwargs = {"reward_mode": REWARD_MODE[algorithm], **(env_kwargs or {})}
        env = gym.make_vec(env, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    elif env_kwargs:
        raise ValueError("env_kwargs apply only when env is an id string; pass them to gym.make for an env object")
    if isinstance(env, VecEnv):
        venv = env
    elif isinstance(env, gym.vector.VectorEnv):
        venv = MelodySB3VecEnv(env)
    elif isinstance(env, gym.Env):
        melody = plain_melody_env(env)
        venv = DummyVecEnv([lambda: env]) if melody is None else MelodySB3VecEnv(melody_vector_env(melody, n))
    else:
        raise TypeError(
            "env must be 'MelodyCompose-v0', a MelodyCompose env, its vector env or an SB3 VecEnv, "
            f"got {type(env).__name__}"
        )
    if n_envs is not None and venv.num_envs != n_envs:
        raise ValueError(
            f"n_envs={n_envs}, but the env runs {venv.num_envs} melodies in parallel (a vector env decides its "
            "own; a single env under wrappers other than gym.make's runs alone); leave n_envs out, or pass "
            f"gym.make_vec('MelodyCompose-v0', num_envs={n_envs}) or an unwrapped gym.make env"
        )
    _check_melody_spaces(venv)
    if not isinstance(env_attribute(venv, "c"), float):
        raise ValueError("the env does not expose its melody core (c, Reward RNN); pass a MelodyCompose-v0 env")
    if seed is not None:
        venv.seed(seed)
    return venv


def plain_melody_env(env: gym.Env) -> MelodyComposeEnv | None:
    """The :class:`MelodyComposeEnv` under ``env`` if only ``gym.make``'s checks wrap it, else ``None``."""
    while isinstance(env, _GYM_MAKE_WRAPPERS):
        env = env.env
    return env if isinstance(env, MelodyComposeEnv) else None


def melody_vector_env(env: MelodyComposeEnv, num_envs: int) -> MelodyComposeVectorEnv:
    """``num_envs`` melodies with every setting of ``env`` (Reward RNN, c, key, rules, length, primer, ...).

    The settings are :class:`~melody_env.batch.MelodyBatch`'s keyword arguments, read back from ``env``'s
    core under the same names (the Reward RNN as ``checkpoint``).
    """
    core = env.core
    names = [name for name in inspect.signature(MelodyBatch).parameters if name not in ("num_melodies", "checkpoint")]
    settings = {name: getattr(core, name) for name in names}
    return MelodyComposeVectorEnv(num_envs, render_mode=env.render_mode, checkpoint=core.reward_rnn, **settings)


def n_envs_for(env: Any, n_envs: int | None) -> int | None:
    """``n_envs`` for the forms whose number of melodies it sets (id string, env from ``gym.make``), else ``None``.

    Lets a saved or earlier ``n_envs`` follow the agent to such an env while other forms keep their own.
    """
    if isinstance(env, str) or (isinstance(env, gym.Env) and plain_melody_env(env) is not None):
        return n_envs
    return None


def _check_melody_spaces(venv: VecEnv) -> None:
    obs_space = venv.observation_space
    if not (isinstance(obs_space, spaces.Dict) and {"note", "h"} <= set(obs_space.spaces)) or venv.action_space != (
        spaces.Discrete(NUM_CLASSES)
    ):
        raise ValueError(
            "env must be MelodyCompose-v0 (Dict observation with 'note' and 'h', Discrete(38) actions), "
            f"got {obs_space} and {venv.action_space}"
        )


# ------------------------------------------------------------------------------------ env attributes
def env_attribute(venv: VecEnv, name: str) -> Any:
    """An attribute of the melody core of the first env (``None`` if the env does not expose it)."""
    try:
        core = venv.get_attr("core", indices=[0])[0]
    except (AttributeError, IndexError, TypeError):
        return None
    return getattr(core, name, None)


def env_note_rnn(venv: VecEnv) -> NoteRNN | None:
    """The env's frozen Reward RNN, which is the Note RNN the agent starts from (paper Fig. 1)."""
    rnn = env_attribute(venv, "reward_rnn")
    return rnn if isinstance(rnn, NoteRNN) else None


def env_melody_length(venv: VecEnv) -> int:
    """Notes per melody of the env (docs/spec.md §6: 32)."""
    return int(env_attribute(venv, "melody_length") or 32)


def check_same_note_rnn(note_rnn: NoteRNN, venv: VecEnv) -> None:
    """Refuse a Note RNN other than the env's Reward RNN (same config and weights), which gives the rewards.

    :raises ValueError: they differ: G's target would mix two models and the tuner would start from one
        model while the env scores with another.
    """
    env_rnn = env_note_rnn(venv)
    if env_rnn is None or note_rnn is env_rnn:
        return
    mine, theirs = note_rnn.state_dict(), env_rnn.state_dict()
    same = note_rnn.config == env_rnn.config and all(
        theirs[key].shape == value.shape and torch.equal(theirs[key], value) for key, value in mine.items()
    )
    if not same:
        raise ValueError(
            "note_rnn differs from the env's Reward RNN (other config or weights), so the rewards and G's prior "
            "would come from another model than the one tuned; leave note_rnn out to tune the env's Reward RNN, "
            "or build the env with checkpoint=<that Note RNN>"
        )


__all__ = [
    "DEFAULT_N_ENVS",
    "algorithm_reward",
    "as_vec_env",
    "check_same_note_rnn",
    "env_attribute",
    "env_melody_length",
    "env_note_rnn",
    "info_columns",
    "melody_vector_env",
    "n_envs_for",
    "plain_melody_env",
    "reward_parts",
]
