"""``MoleculeCompose-v0``: write a SMILES string token by token, rewarded by the prior's log p and rdkit terms.

Thin subclasses of the generic env (:class:`sequence_env.envs.env.SequenceTuneEnv`) and vector env that build
the molecule task (:func:`molecule_env.task.molecule_task`) from their keyword arguments, so
``gym.make("MoleculeCompose-v0", c=0.3, weights={"qed": 2})`` works. Observation, reward and ``info``
are the generic env's: ``{"token", "h", "c", "position"}``; ``info`` has ``log_prior``,
``reward_terms`` (the terms' weighted sum), ``terms/<name>`` and ``prior_log_probs``. The terms are
given on the step that ends the episode (the end token, or ``max_length`` tokens).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from molecule_env.prior import SmilesPrior
from molecule_env.task import MAX_LENGTH, molecule_task
from sequence_env.envs.env import SequenceTuneEnv
from sequence_env.envs.vector import SequenceTuneVectorEnv
from sequence_env.threads import DEFAULT_TORCH_THREADS


class MoleculeComposeEnv(SequenceTuneEnv):
    """One molecule per episode (module docs). Arguments: those of :func:`~molecule_env.task.molecule_task`,
    and ``render_mode`` (``"ansi"``), ``reward_mode`` and ``torch_threads`` of the generic env."""

    def __init__(
        self,
        render_mode: str | None = None,
        *,
        checkpoint: SmilesPrior | str | os.PathLike | None = None,
        c: float = 0.5,
        weights: Mapping[str, float] | None = None,
        max_length: int = MAX_LENGTH,
        bucket_size: int = 25,
        workers: int | None = None,
        fixed_length: bool = False,
        reward_mode: str = "full",
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        task = molecule_task(
            checkpoint,
            c=c,
            weights=weights,
            max_length=max_length,
            bucket_size=bucket_size,
            workers=workers,
            fixed_length=fixed_length,
        )
        super().__init__(render_mode, task=task, reward_mode=reward_mode, torch_threads=torch_threads)


class MoleculeComposeVectorEnv(SequenceTuneVectorEnv):
    """N molecules at once (``gym.make_vec("MoleculeCompose-v0", num_envs=N)``); rows autoreset independently."""

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        *,
        checkpoint: SmilesPrior | str | os.PathLike | None = None,
        c: float = 0.5,
        weights: Mapping[str, float] | None = None,
        max_length: int = MAX_LENGTH,
        bucket_size: int = 25,
        workers: int | None = None,
        fixed_length: bool = False,
        reward_mode: str = "full",
        torch_threads: int | None = DEFAULT_TORCH_THREADS,
    ) -> None:
        task = molecule_task(
            checkpoint,
            c=c,
            weights=weights,
            max_length=max_length,
            bucket_size=bucket_size,
            workers=workers,
            fixed_length=fixed_length,
        )
        super().__init__(num_envs, render_mode, task=task, reward_mode=reward_mode, torch_threads=torch_threads)


__all__ = ["MoleculeComposeEnv", "MoleculeComposeVectorEnv"]
