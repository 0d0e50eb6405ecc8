"""melody_env: ``MelodyCompose-v0``, the melody instance of the generic core ``sequence_env`` (docs/spec.md §1-§5, §10).

Importing the package registers ``MelodyCompose-v0`` (single env, and a batched vector env for
``gym.make_vec``) and nothing heavier: torch, music21 and the classes below load on first use. It
also adds ``melody_env`` to multiprocessing's forkserver preload list, so workers started by a
forkserver (SB3's ``SubprocVecEnv`` default) know the id too (see "Worker processes" in
:class:`melody_env.env.MelodyComposeEnv`).
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

from sequence_env.envs.workers import preload_in_forkserver
from sequence_env.task import register_task

ENV_ID = "MelodyCompose-v0"

if ENV_ID not in registry:  # importing twice (or reloading) must not register twice
    register(
        id=ENV_ID,
        entry_point="melody_env.env:MelodyComposeEnv",
        vector_entry_point="melody_env.vector:MelodyComposeVectorEnv",
    )


preload_in_forkserver(__name__)


def _melody_task(**options: Any) -> Any:
    """The melody task (:func:`melody_env.task.melody_task`), imported on first use."""
    from melody_env.task import melody_task

    return melody_task(**options)


register_task("melody", _melody_task)  # make_task("melody") and gym.make("SequenceTune-v0", task="melody")

# Public name -> module defining it, imported lazily by __getattr__ (PEP 562).
_EXPORTS = {
    # env.py, vector.py, batch.py, sb3_vec_env.py, reward.py: the environment
    "MelodyComposeEnv": "melody_env.env",
    "MelodyComposeVectorEnv": "melody_env.vector",
    "MelodyBatch": "melody_env.batch",
    "MelodySB3VecEnv": "melody_env.sb3_vec_env",
    "REWARD_MODES": "sequence_env.reward",
    "compose_reward": "sequence_env.reward",
    "melody_task": "melody_env.task",
    # note_rnn.py, checkpoint.py, training.py: the prior
    "NoteRNN": "melody_env.note_rnn",
    "NoteRNNConfig": "melody_env.note_rnn",
    "load_default_note_rnn": "melody_env.note_rnn",
    "CheckpointError": "sequence_env.checkpoint",
    "train_note_rnn": "melody_env.training",
    # encoding.py, data.py, listen.py: melodies in and out
    "read_melody": "melody_env.encoding",
    "write_midi": "melody_env.encoding",
    "melody_to_stream": "melody_env.encoding",
    "stream_to_melody": "melody_env.encoding",
    "load_corpus": "melody_env.data",
    "Corpus": "melody_env.data",
    "write_wav": "melody_env.listen",
    "piano_roll": "melody_env.listen",
    "save_piano_roll": "melody_env.listen",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'melody_env' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = ["ENV_ID", *_EXPORTS]
