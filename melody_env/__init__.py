"""melody_env: the ``MelodyCompose-v0`` Gymnasium environment and what it is built from (SPEC §1-§5).

Importing the package registers ``MelodyCompose-v0`` (single env, and a batched vector env for
``gym.make_vec``) and nothing heavier: torch, music21 and the classes below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

ENV_ID = "MelodyCompose-v0"

if ENV_ID not in registry:  # importing twice (or reloading) must not register twice
    register(
        id=ENV_ID,
        entry_point="melody_env.env:MelodyComposeEnv",
        vector_entry_point="melody_env.vector:MelodyComposeVectorEnv",
    )

# Public name -> module defining it, imported lazily by __getattr__ (PEP 562).
_EXPORTS = {
    # env.py, vector.py, batch.py, sb3_vec_env.py, reward.py: the environment
    "MelodyComposeEnv": "melody_env.env",
    "MelodyComposeVectorEnv": "melody_env.vector",
    "MelodyBatch": "melody_env.batch",
    "MelodySB3VecEnv": "melody_env.sb3_vec_env",
    "REWARD_MODES": "melody_env.reward",
    "compose_reward": "melody_env.reward",
    # note_rnn.py, checkpoint.py, training.py: the prior
    "NoteRNN": "melody_env.note_rnn",
    "NoteRNNConfig": "melody_env.note_rnn",
    "load_default_note_rnn": "melody_env.note_rnn",
    "CheckpointError": "melody_env.checkpoint",
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
