"""``MelodyCompose-v0`` for N melodies at once: a Gymnasium 1.x ``VectorEnv`` over :class:`MelodyBatch`."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

from melody_env.batch import RENDER_MODES, MelodyBatch
from melody_env.note_rnn import NoteRNN
from melody_env.task import resolve_primer
from reward_rules import NUM_CLASSES
from sequence_env.envs.vector import SequenceTuneVectorEnv


class MelodyComposeVectorEnv(SequenceTuneVectorEnv):
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
        self._init_core(MelodyBatch(num_envs, **kwargs), render_mode)

    @property
    def reward_rnn(self) -> NoteRNN:
        """The frozen Reward RNN (a copy of the checkpoint)."""
        return self.core.reward_rnn

    def resolve_primer(self, primer: object) -> str | np.ndarray:
        """A ``reset`` primer option: ``"random"``, ``"corpus"``, a MIDI/ABC file or classes."""
        return resolve_primer(primer)

    def _check_actions(self, actions: object) -> np.ndarray:
        return check_actions(actions, self.num_envs)


def check_actions(actions: object, num_envs: int) -> np.ndarray:
    """``actions`` as a contiguous (N,) int64 array, or a ``TypeError``/``ValueError`` naming the problem."""
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"actions must be integer note classes 0..{NUM_CLASSES - 1}, got dtype {arr.dtype}")
    if arr.shape != (num_envs,):
        raise ValueError(f"actions must have shape ({num_envs},) (one note per melody), got {arr.shape}")
    if arr.min() < 0 or arr.max() >= NUM_CLASSES:
        raise ValueError(f"actions must be note classes 0..{NUM_CLASSES - 1}, got {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int64)


__all__ = ["MelodyComposeVectorEnv", "check_actions"]
