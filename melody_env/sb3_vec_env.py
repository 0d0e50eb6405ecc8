"""Stable-Baselines3 on the batched melody env: :class:`sequence_env.envs.sb3_vec_env.SequenceSB3VecEnv` over melodies.

::

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from melody_env.sb3_vec_env import MelodySB3VecEnv

    env = VecMonitor(MelodySB3VecEnv(num_envs=16))
    PPO("MultiInputPolicy", env).learn(100_000)
"""

from __future__ import annotations

from typing import ClassVar

from melody_env.vector import MelodyComposeVectorEnv
from sequence_env.envs.sb3_vec_env import SequenceSB3VecEnv


class MelodySB3VecEnv(SequenceSB3VecEnv):
    """SB3 ``VecEnv`` of N melodies backed by one :class:`MelodyComposeVectorEnv` (module docs).

    :param env: the batched env to wrap (e.g. ``gym.make_vec("MelodyCompose-v0", num_envs=N)``); when
        ``None`` one is built from ``num_envs`` and ``kwargs`` (those of :class:`melody_env.env.MelodyComposeEnv`).
    """

    VECTOR_ENV: ClassVar[type[MelodyComposeVectorEnv]] = MelodyComposeVectorEnv


__all__ = ["MelodySB3VecEnv"]
