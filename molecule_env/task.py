"""The molecule task: a SMILES prior refined by rdkit reward terms, on the generic core (docs/spec.md §10).

:func:`molecule_task` builds the :class:`~sequence_env.task.SequenceTask` that ``MoleculeCompose-v0``
runs: the prior's SMILES vocabulary, the prior, the six terms of :mod:`molecule_env.scoring.terms` (all
given at the episode's end) with a shared scorer and scaffold memory as their context, episodes that
start from the begin token and end at the end token or ``max_length``, and ``c``. It is registered as
the task ``"molecule"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import partial

import numpy as np

from molecule_env.prior import SmilesPrior, load_smiles_prior
from molecule_env.scoring.memory import ScaffoldMemory
from molecule_env.scoring.scorer import MoleculeScorer
from molecule_env.scoring.terms import TERM_FNS, MoleculeContext, molecule_terms
from sequence_env.task import SequenceTask, register_task

TASK_NAME = "molecule"
MAX_LENGTH = 64  # tokens per episode at most; MOSES's longest SMILES has 54 tokens (+ the end token)


def render_smiles(mode: str, primer: np.ndarray, sequence: np.ndarray, max_length: int, *, vocabulary) -> str:
    """``"ansi"``: the SMILES so far, ``</s>`` at its end once the end token is drawn."""
    return vocabulary.decode(sequence, skip_specials=False)


def molecule_task(
    checkpoint: SmilesPrior | str | os.PathLike | None = None,
    *,
    c: float = 0.5,
    weights: Mapping[str, float] | None = None,
    max_length: int = MAX_LENGTH,
    bucket_size: int = 25,
    workers: int | None = None,
    fixed_length: bool = False,
) -> SequenceTask:
    """The task of ``MoleculeCompose-v0``.

    :param checkpoint: a :class:`SmilesPrior`, a checkpoint path, or ``None`` for the shipped prior.
    :param c: the weight of the prior against the terms (Eq. 3).
    :param weights: ``{term: weight}`` over :data:`~molecule_env.scoring.terms.DEFAULT_WEIGHTS`.
    :param max_length: tokens per episode at most (the end token included).
    :param bucket_size: molecules per scaffold before the diversity term scores its repeats 0.
    :param workers: scorer worker processes for batches of 64 or more uncached molecules (``None``: one per
        CPU, at most 4; 0: always in the env's process). A step ends only a few episodes, so the env scores
        those itself; large batches (judging thousands of samples) go to the workers.
    :param fixed_length: every episode has ``max_length`` tokens, the end token included and padding after
        it (the rollouts of KL-PPO and RLOO need rows that end together); the terms are given at the last
        position. ``False``: an episode ends at its end token.
    """
    prior = checkpoint if isinstance(checkpoint, SmilesPrior) else load_smiles_prior(checkpoint)
    encoder = prior.encoder
    context = MoleculeContext(encoder, MoleculeScorer(workers=workers), ScaffoldMemory(bucket_size))
    options = {
        "c": c,
        "weights": dict(weights or {}),
        "max_length": max_length,
        "bucket_size": bucket_size,
        "workers": workers,
        "fixed_length": fixed_length,
    }
    if checkpoint is not None and not isinstance(checkpoint, SmilesPrior):
        options["checkpoint"] = str(checkpoint)
    return SequenceTask(
        name=TASK_NAME,
        vocabulary=replace(prior.vocabulary, end=None) if fixed_length else prior.vocabulary,
        prior=prior.model,
        terms=molecule_terms(weights),
        max_length=max_length,
        context=context,
        c=c,
        token_key="token",
        sum_key="reward_terms",
        term_prefix="terms/",
        trusted_terms=tuple(TERM_FNS.values()),
        render=partial(render_smiles, vocabulary=prior.vocabulary),
        module="molecule_env.task",
        options=options,
    )


register_task(TASK_NAME, molecule_task)

__all__ = ["MAX_LENGTH", "TASK_NAME", "molecule_task", "render_smiles"]
