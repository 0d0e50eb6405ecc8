"""sequence_env: the generic core of RL Tuner — refine any autoregressive prior with reward terms (docs/spec.md §10).

It holds a vocabulary (:mod:`.vocabulary`), the prior protocol and its LSTM (:mod:`.prior`, :mod:`.lstm`),
the registry of reward terms and their batched evaluator (:mod:`.terms`, :mod:`.evaluator`), the task
description (:mod:`.task`), and the envs: the batched core, one Gymnasium env, the vector env and the
SB3 adapter. It depends on nothing else of this project; melodies (``melody_env``, ``reward_rules``)
and molecules are instances of it.

Importing the package registers ``SequenceTune-v0`` (``gym.make("SequenceTune-v0", task=task)``, and
``gym.make_vec`` for the batched form) and nothing heavier.
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

from sequence_env.envs.workers import preload_in_forkserver

ENV_ID = "SequenceTune-v0"

if ENV_ID not in registry:  # importing twice (or reloading) must not register twice
    register(
        id=ENV_ID,
        entry_point="sequence_env.envs.env:SequenceTuneEnv",
        vector_entry_point="sequence_env.envs.vector:SequenceTuneVectorEnv",
    )

preload_in_forkserver(__name__)

# Public name -> module defining it, imported lazily by __getattr__ (PEP 562).
_EXPORTS = {
    "Vocabulary": "sequence_env.vocabulary",
    "AutoregressivePrior": "sequence_env.prior",
    "LSTMPrior": "sequence_env.lstm",
    "LSTMConfig": "sequence_env.lstm",
    "RewardTerm": "sequence_env.terms",
    "RewardTerms": "sequence_env.terms",
    "TermEvaluator": "sequence_env.evaluator",
    "SequenceTask": "sequence_env.task",
    "PrimerFile": "sequence_env.task",
    "make_task": "sequence_env.task",
    "register_task": "sequence_env.task",
    "SequenceBatch": "sequence_env.envs.batch",
    "SequenceTuneEnv": "sequence_env.envs.env",
    "SequenceTuneVectorEnv": "sequence_env.envs.vector",
    "SequenceSB3VecEnv": "sequence_env.envs.sb3_vec_env",
    "compose_reward": "sequence_env.reward",
    "CheckpointError": "sequence_env.checkpoint",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sequence_env' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = ["ENV_ID", *_EXPORTS]
