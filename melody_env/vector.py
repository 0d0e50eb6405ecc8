"""``MelodyCompose-v0`` for N melodies at once: a Gymnasium 1.x ``VectorEnv`` over :class:`MelodyBatch`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from melody_env.batch import RENDER_MODES, MelodyBatch, check_actions, observation_space, render_melody, resolve_primer
from melody_env.note_rnn import NoteRNN
from reward_rules import NUM_CLASSES


class MelodyComposeVectorEnv(VectorEnv):
    """``MelodyCompose-v0`` for N melodies at once: ``gym.make_vec("MelodyCompose-v0", num_envs=N)``.

    Each row behaves exactly like one :class:`melody_env.env.MelodyComposeEnv` (same spaces, rewards
    and info keys), but a step runs one Reward RNN call and one rules call for all rows.

    ## Autoreset (``metadata["autoreset_mode"] = AutoresetMode.NEXT_STEP``)

    Every melody has ``melody_length`` notes, so all rows terminate on the same step (unless rows were
    reset apart with ``reset(options={"reset_mask": mask})``). The step after a row terminates
    ignores its action and starts its next melody: reward 0, ``terminated`` False, the new
    observation, and in ``info`` only ``prior_log_probs`` for that row (the ``_<key>`` masks say
    which rows carry which key, as in ``SyncVectorEnv``).

    ## Seeding

    ``reset(seed=s)`` gives row ``i`` the random generator of a single env reset with seed ``s + i``
    (a list of seeds gives one per row), so N single envs seeded ``s, s + 1, ...`` and fed the same
    actions give exactly the same numbers. ``reset()`` without a seed keeps the rows' generators.

    ## Arguments

    ``num_envs`` (N), ``render_mode`` and the keyword arguments of
    :class:`melody_env.env.MelodyComposeEnv`, ``torch_threads`` included (one thread by default, for
    the batched step too). ``render()`` returns one frame per row (a tuple).
    ``reset(options=...)`` takes ``"reset_mask"`` (bool (N,)) and ``"primer"`` (for this reset only).
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - Gymnasium's class-level metadata convention
        "render_modes": list(RENDER_MODES),
        "render_fps": 16 / 3,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")
        self.render_mode = render_mode
        self.core = MelodyBatch(num_envs, **kwargs)
        self.num_envs = self.core.num_melodies
        self.single_observation_space = observation_space(
            self.core.hidden_size, self.core.melody_length, self.core.max_primer_length
        )
        self.single_action_space = spaces.Discrete(NUM_CLASSES)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._rule_keys = tuple(f"rules/{name}" for name in self.core.rule_names)

    @property
    def reward_rnn(self) -> NoteRNN:
        """The frozen Reward RNN (a copy of the checkpoint)."""
        return self.core.reward_rnn

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start new melodies in all rows (or the rows of ``options["reset_mask"]``); see the class docs."""
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else _check_mask(mask, self.num_envs)
        primer = resolve_primer(options.pop("primer")) if "primer" in options else None
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
        """Play one note in every row (rows that terminated last step are reset instead)."""
        actions = check_actions(actions, self.num_envs)
        resetting = self._autoreset
        n = self.num_envs
        if resetting.all():
            self._reset_rows(resetting)
            reward, infos = np.zeros(n), self._reset_info(resetting)
        else:
            skip = resetting.copy() if resetting.any() else None
            reward, log_prior, music_theory, rule_values = self.core.step(actions, skip)
            stepped = ~resetting
            infos = {"log_prior": log_prior, "_log_prior": stepped, "music_theory": music_theory}
            infos["_music_theory"] = stepped.copy()
            for j, key in enumerate(self._rule_keys):
                infos[key], infos["_" + key] = rule_values[:, j], stepped.copy()
            if skip is not None:
                self._reset_rows(skip)
                reward[skip] = 0.0
                for key in ("log_prior", "music_theory", *self._rule_keys):
                    infos[key] = np.where(skip, 0.0, infos[key])
            infos["prior_log_probs"] = self.core.log_probs.copy()
            infos["_prior_log_probs"] = np.ones(n, dtype=bool)
        terminated = self.core.positions == self.core.melody_length
        self._autoreset = terminated
        return self.core.observation(), reward, terminated.copy(), np.zeros(n, dtype=bool), infos

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """One frame per row: note names (``"ansi"``) or a piano roll (``"rgb_array"``) of the melody so far."""
        if self.render_mode is None:
            return None
        core = self.core
        return tuple(
            render_melody(
                self.render_mode, core.primers[i], core.melodies[i, : max(core.positions[i], 0)], core.melody_length
            )
            for i in range(self.num_envs)
        )

    def _reset_rows(self, mask: np.ndarray, primer: str | np.ndarray | None = None) -> None:
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


__all__ = ["MelodyComposeVectorEnv"]
