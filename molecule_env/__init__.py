"""molecule_env: ``MoleculeCompose-v0``, SMILES molecules as the second instance of the generic core ``sequence_env``.

A SMILES prior (:mod:`.prior`, trained by :mod:`.training` on the MOSES splits of :mod:`.data`) is refined
with rdkit reward terms (:mod:`.scoring`) through the task ``"molecule"`` (:mod:`.task`); the results are
judged by MOSES's metrics (:mod:`.metrics`). Importing the package registers ``MoleculeCompose-v0`` (and
its vector env for ``gym.make_vec``) and nothing heavier; rdkit and torch load on first use. Like
``melody_env`` it adds itself to the forkserver's preload list, so worker processes know the id.

rdkit, molsets and fcd-torch are the ``molecules`` extra (:data:`molecule_env.extras.INSTALL`).
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

from sequence_env.envs.workers import preload_in_forkserver

ENV_ID = "MoleculeCompose-v0"

if ENV_ID not in registry:  # importing twice (or reloading) must not register twice
    register(
        id=ENV_ID,
        entry_point="molecule_env.env:MoleculeComposeEnv",
        vector_entry_point="molecule_env.env:MoleculeComposeVectorEnv",
    )

preload_in_forkserver(__name__)

_EXPORTS = {
    "MoleculeComposeEnv": "molecule_env.env",
    "MoleculeComposeVectorEnv": "molecule_env.env",
    "molecule_task": "molecule_env.task",
    "load_smiles_prior": "molecule_env.prior",
    "train_smiles_prior": "molecule_env.training",
    "load_smiles": "molecule_env.data",
    "MoleculeScorer": "molecule_env.scoring.scorer",
    "molecule_terms": "molecule_env.scoring.terms",
    "moses_metrics": "molecule_env.metrics",
    "MissingExtraError": "molecule_env.extras",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'molecule_env' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = ["ENV_ID", *_EXPORTS]
