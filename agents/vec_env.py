"""The env forms RLTuner accepts, as one SB3 ``VecEnv`` (what callbacks see as ``training_env``).

A ``MelodyCompose-v0`` id string becomes ``gym.make_vec`` with the reward mode the algorithm needs
(SPEC §5: Eq. 3 for Q and Ψ, rMT/c for G and RL-only); a Gymnasium vector env is wrapped with
:class:`melody_env.sb3_vec_env.MelodySB3VecEnv`; a single env with SB3's ``DummyVecEnv``; an SB3
``VecEnv`` is used as it is.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from melody_env.note_rnn import NoteRNN
from reward_rules.tokens import NUM_CLASSES


def as_vec_env(env: Any, reward_mode: str, n_envs: int, env_kwargs: dict[str, Any] | None, seed: int | None) -> VecEnv:
    """``env`` as an SB3 ``VecEnv`` whose reward is the one the algorithm needs.

    :param env: id string, Gymnasium ``Env`` or ``VectorEnv``, or SB3 ``VecEnv`` of ``MelodyCompose-v0``.
    :param reward_mode: ``"full"`` (Q, Ψ) or ``"rules"`` (G, RL-only).
    :param n_envs: melodies in parallel when ``env`` is an id string.
    :param env_kwargs: keyword arguments for ``gym.make_vec`` when ``env`` is an id string.
    :param seed: seeds the env's next reset (``None``: unseeded).
    :raises ValueError: the env has another reward mode or is not a melody env.
    """
    if isinstance(env, str):
        import melody_env  # noqa: F401 - registers MelodyCompose-v0

        kwargs = {"reward_mode": reward_mode, **(env_kwargs or {})}
        env = gym.make_vec(env, num_envs=n_envs, vectorization_mode="vector_entry_point", **kwargs)
    if isinstance(env, VecEnv):
        venv = env
    elif isinstance(env, gym.vector.VectorEnv):
        from melody_env.sb3_vec_env import MelodySB3VecEnv

        venv = MelodySB3VecEnv(env)
    elif isinstance(env, gym.Env):
        venv = DummyVecEnv([lambda: env])
    else:
        raise TypeError(
            "env must be 'MelodyCompose-v0', a MelodyCompose env, its vector env or an SB3 VecEnv, "
            f"got {type(env).__name__}"
        )
    obs_space = venv.observation_space
    if not (isinstance(obs_space, spaces.Dict) and {"note", "h"} <= set(obs_space.spaces)) or venv.action_space != (
        spaces.Discrete(NUM_CLASSES)
    ):
        raise ValueError(
            "env must be MelodyCompose-v0 (Dict observation with 'note' and 'h', Discrete(38) actions), "
            f"got {obs_space} and {venv.action_space}"
        )
    mode = env_attribute(venv, "reward_mode")
    if mode is not None and mode != reward_mode:
        raise ValueError(
            f"this algorithm needs the env's reward_mode={reward_mode!r} (SPEC §5), the env has {mode!r}; "
            f"create it with gym.make(..., reward_mode={reward_mode!r}) or pass the id string"
        )
    if seed is not None:
        venv.seed(seed)
    return venv


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
    """Notes per melody of the env (SPEC §6: 32)."""
    return int(env_attribute(venv, "melody_length") or 32)


__all__ = ["as_vec_env", "env_attribute", "env_melody_length", "env_note_rnn"]
