"""Stable-Baselines3 on the batched env: a ``VecEnv`` over :class:`SequenceTuneVectorEnv` (no subprocesses).

SB3 does not take Gymnasium ``VectorEnv`` objects, and its autoreset differs: when a row finishes,
SB3 expects the *first observation of the next episode* in the same step, with the last one in
``infos[i]["terminal_observation"]``. :class:`SequenceSB3VecEnv` does that reset immediately
(``reset(options={"reset_mask": done})`` on the batched env), so no step is spent on Gymnasium's
NEXT_STEP autoreset and every step is one batched prior call::

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from melody_env.sb3_vec_env import MelodySB3VecEnv  # the melody instance of SequenceSB3VecEnv

    env = VecMonitor(MelodySB3VecEnv(num_envs=16))
    PPO("MultiInputPolicy", env).learn(100_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from sequence_env.envs.vector import SequenceTuneVectorEnv


class SequenceSB3VecEnv(VecEnv):
    """SB3 ``VecEnv`` of N rows backed by one :class:`SequenceTuneVectorEnv` (or a subclass, such as melodies').

    :param env: the batched env to wrap (e.g. ``gym.make_vec("SequenceTune-v0", num_envs=N, task=task)``);
        when ``None`` one of :attr:`VECTOR_ENV` is built from ``num_envs`` and ``kwargs``.
    :param num_envs: N, used only when ``env`` is ``None``.
    :param kwargs: arguments of the vector env (``task``, ``c``, ...).

    Attributes are shared by all rows, so ``get_attr``/``env_method`` act once on the batched env and
    repeat the result per index; ``set_attr`` sets it on the batched env. ``seed(s)`` makes the next
    ``reset`` seed row ``i`` with ``s + i``, like N single envs. ``last_step_info`` is the batched env's
    ``info`` of the last step (arrays of N rows, e.g. ``"log_prior"``), which agents read instead of N dicts.
    """

    VECTOR_ENV: ClassVar[type[SequenceTuneVectorEnv]] = SequenceTuneVectorEnv

    def __init__(self, env: SequenceTuneVectorEnv | None = None, num_envs: int = 1, **kwargs: Any) -> None:
        if env is None:
            env = self.VECTOR_ENV(num_envs=num_envs, **kwargs)
        elif kwargs:
            raise ValueError(f"pass either a built env or constructor arguments, not both (got {sorted(kwargs)})")
        if not isinstance(env.unwrapped, self.VECTOR_ENV):
            raise TypeError(f"env must be a {self.VECTOR_ENV.__name__}, got {type(env.unwrapped).__name__}")
        self.venv = env.unwrapped
        super().__init__(self.venv.num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._actions: np.ndarray | None = None
        self.last_step_info: dict[str, np.ndarray] = {}

    def reset(self) -> VecEnvObs:
        """Start new episodes in every row (using the seeds and options set by ``seed``/``set_options``)."""
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = self._options[0] or None
        obs, info = self.venv.reset(seed=seeds, options=options)
        self.reset_infos = [{"prior_log_probs": row} for row in info["prior_log_probs"]]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions (one token per row) for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every row; finished rows start over at once (SB3 semantics, see the module docs)."""
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        actions, self._actions = self._actions, None
        obs, reward, terminated, truncated, info = self.venv.step(actions)
        self.last_step_info = info
        infos = _rows(info, self.num_envs)
        for row, cut in zip(infos, (truncated & ~terminated).tolist(), strict=True):
            row["TimeLimit.truncated"] = cut  # as DummyVecEnv: a time-limit cut (never here) may bootstrap
        done = terminated | truncated
        if done.any():
            new_obs, reset_info = self.venv.reset(options={"reset_mask": done})
            for i in np.flatnonzero(done):
                infos[i]["terminal_observation"] = {key: value[i] for key, value in obs.items()}
                self.reset_infos[i] = {"prior_log_probs": reset_info["prior_log_probs"][i]}
            obs = new_obs
        return obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        """Close the batched env."""
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One image per row (``render_mode="rgb_array"``)."""
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return list(self.venv.render())

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The batched env's attribute, once per index."""
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the batched env (shared by all rows)."""
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the batched env once; its result is repeated per index."""
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Rows are not Gymnasium-wrapped envs: always False."""
        return [False for _ in self._get_indices(indices)]


def _rows(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's dict of arrays (with ``_key`` masks) as SB3's list of per-row dicts.

    Each row is built in one ``dict(zip(...))`` over the columns, then the masked-out entries are
    removed: a quarter of the time of filling N dicts key by key (a vector step of 64 rows has 14 keys).
    """
    keys = [key for key in info if not key.startswith("_")]
    if not keys:
        return [{} for _ in range(num_envs)]
    columns = [info[key].tolist() if info[key].ndim == 1 else list(info[key]) for key in keys]
    infos = [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    for key in keys:
        mask = info.get("_" + key)
        if mask is not None and not mask.all():
            for i in np.flatnonzero(~mask):
                del infos[i][key]
    return infos


__all__ = ["SequenceSB3VecEnv"]
