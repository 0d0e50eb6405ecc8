"""``SequenceTune-v0`` for N episodes at once: a Gymnasium 1.x ``VectorEnv`` over :class:`SequenceBatch`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sequence_env.envs.batch import SequenceBatch, check_actions, observation_space
from sequence_env.envs.env import RENDER_MODES, render_text, resolve_primer, resolve_task
from sequence_env.task import SequenceTask
from sequence_env.threads import DEFAULT_TORCH_THREADS


class SequenceTuneVectorEnv(VectorEnv):
    """N episodes of one task at once: ``gym.make_vec("SequenceTune-v0", num_envs=N, task=task)``.

    Each row behaves exactly like one :class:`sequence_env.envs.env.SequenceTuneEnv` (same spaces, rewards
    and info keys), but a step runs one prior call and one reward-terms call for all rows.

    ## Autoreset (``metadata["autoreset_mode"] = AutoresetMode.NEXT_STEP``)

    The step after a row terminates ignores its action and starts its next episode: reward 0,
    ``terminated`` False, the new observation, and in ``info`` only ``prior_log_probs`` for that row
    (the ``_<key>`` masks say which rows carry which key, as in ``SyncVectorEnv``). Without an end token
    every episode has ``max_length`` tokens, so rows reset together end together.

    ## Seeding

    ``reset(seed=s)`` gives row ``i`` the random generator of a single env reset with seed ``s + i``
    (a list of seeds gives one per row), so N single envs seeded ``s, s + 1, ...`` and fed the same
    actions give exactly the same numbers. ``reset()`` without a seed keeps the rows' generators.

    ## Arguments

    ``num_envs`` (N), ``render_mode`` and the keyword arguments of :class:`SequenceTuneEnv`.
    ``reset(options=...)`` takes ``"reset_mask"`` (bool (N,)) and ``"primer"`` (for this reset only).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - Gymnasium's class-level metadata convention
        "render_modes": list(RENDER_MODES),
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        task: SequenceTask | str,
        task_options: dict[str, Any] | None = None,
        c: float | None = None,
        reward_mode: str = "full",
        max_primer_length: int | None = None,
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        core = SequenceBatch(
            num_envs,
            resolve_task(task, task_options),
            c=c,
            reward_mode=reward_mode,
            max_primer_length=max_primer_length,
            torch_threads=torch_threads,
        )
        self._init_core(core, render_mode)

    def _init_core(self, core: SequenceBatch, render_mode: str | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.core = core
        self.task = core.task
        self.num_envs = core.num_rows
        self.single_observation_space = observation_space(core.task, core.prior, core.max_primer_length)
        self.single_action_space = spaces.Discrete(core.vocab_size)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._sum_key = core.task.sum_key
        self._term_keys = tuple(core.task.term_prefix + name for name in core.term_names)

    @property
    def prior(self) -> Any:
        """The frozen prior (a copy of the task's)."""
        return self.core.prior

    @property
    def c(self) -> float:
        """The weight of the prior against the terms."""
        return self.core.c

    def resolve_primer(self, primer: object) -> np.ndarray:
        """A ``reset`` primer option as token ids."""
        return resolve_primer(self.task, primer)

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start new episodes in all rows (or the rows of ``options["reset_mask"]``); see the class docs."""
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else _check_mask(mask, self.num_envs)
        primer = self.resolve_primer(options.pop("primer")) if "primer" in options else None
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; known: 'reset_mask', 'primer'")
        if seed is None:
            seeds: Sequence[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            super().reset(seed=int(seed))
            seeds = [int(seed) + i for i in range(self.num_envs)]
        elif len(seed) == self.num_envs:
            seeds = seed
        else:
            raise ValueError(f"seed must be None, an int or a list of {self.num_envs} seeds, got {seed!r}")
        for row in np.flatnonzero(mask):
            if seeds[row] is not None or self._rngs[row] is None:
                self._rngs[row] = seeding.np_random(seeds[row])[0]
        self._reset_rows(mask, primer)
        return self.core.observation(), self._reset_info(mask)

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Write one token in every row (rows that terminated last step are reset instead)."""
        actions = self._check_actions(actions)
        resetting = self._autoreset
        n = self.num_envs
        if resetting.all():
            self._reset_rows(resetting)
            reward, infos = np.zeros(n), self._reset_info(resetting)
        else:
            skip = resetting.copy() if resetting.any() else None
            reward, log_prior, total, term_values = self.core.step(actions, skip)
            stepped = ~resetting
            infos = {"log_prior": log_prior, "_log_prior": stepped, self._sum_key: total}
            infos["_" + self._sum_key] = stepped.copy()
            for j, key in enumerate(self._term_keys):
                infos[key], infos["_" + key] = term_values[:, j], stepped.copy()
            if skip is not None:
                self._reset_rows(skip)
                reward[skip] = 0.0
                for key in ("log_prior", self._sum_key, *self._term_keys):
                    infos[key] = np.where(skip, 0.0, infos[key])
            infos["prior_log_probs"] = self.core.log_probs.copy()
            infos["_prior_log_probs"] = np.ones(n, dtype=bool)
        terminated = self.core.ended.copy()
        self._autoreset = terminated
        return self.core.observation(), reward, terminated.copy(), np.zeros(n, dtype=bool), infos

    def _check_actions(self, actions: object) -> np.ndarray:
        return check_actions(actions, self.num_envs, self.core.vocab_size)

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """One frame per row: the episode so far, as the task renders it."""
        if self.render_mode is None:
            return None
        core = self.core
        return tuple(
            render_text(self.task, self.render_mode, core.primers[i], core.sequences[i, : max(core.positions[i], 0)])
            for i in range(self.num_envs)
        )

    def _reset_rows(self, mask: np.ndarray, primer: np.ndarray | None = None) -> None:
        rngs = self._rngs
        primers = [self.core.draw_primer(rngs[row], primer) for row in np.flatnonzero(mask)]
        self.core.reset_rows(mask, primers)
        self._autoreset = self._autoreset & ~mask

    def _reset_info(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        log_probs = np.where(mask[:, None], self.core.log_probs, np.float32(0.0))
        return {"prior_log_probs": log_probs, "_prior_log_probs": mask.copy()}


def _check_mask(mask: object, num_envs: int) -> np.ndarray:
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (num_envs,):
        raise ValueError(f"options['reset_mask'] must be a bool numpy array of shape ({num_envs},), got {mask!r}")
    if not mask.any():
        raise ValueError("options['reset_mask'] must select at least one row")
    return mask


__all__ = ["SequenceTuneVectorEnv"]
