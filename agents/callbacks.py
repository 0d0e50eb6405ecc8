"""Training diagnostics as an SB3 callback: reward parts, each reward term, KL to the prior, policy entropy.

:class:`TuningStatsCallback` is added to every :meth:`agents.RLTuner.learn` call. At each vector step
it averages, over the N melodies, what the env reports (log p(a|s), rMT and each rule's reward, read
from the batched env's arrays when it has them, :func:`agents.vec_env.info_columns`) and
what the tuner exposes in its locals (``logits``: the policy logits, ``log_prior``: log p(·|s)), and
feeds SB3's logger with ``record_mean`` so each dump shows the mean since the previous one. A policy
collapsing onto one melody shows as falling ``policy/entropy`` and rising ``policy/kl_to_prior``.
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from agents.networks import kl_and_entropy
from agents.vec_env import info_columns


class TuningStatsCallback(BaseCallback):
    """Log ``reward/log_prior``, ``reward/<sum>``, ``reward/<term>``, ``policy/kl_to_prior`` and
    ``policy/entropy`` (means over rows and steps between two log dumps).

    ``<sum>`` and ``<term>`` are the task's names: for melodies ``reward/music_theory`` and ``reward/<rule>``.
    """

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        record = self.logger.record_mean
        if infos and "log_prior" in infos[0]:
            task = self.model.task
            keys = ["log_prior", task.sum_key, *(k for k in infos[0] if k.startswith(task.term_prefix))]
            columns = info_columns(self.training_env, infos, keys)
            means = np.vstack(list(columns.values())).mean(1).tolist()  # one reduction for every key
            for key, mean in zip(keys, means, strict=True):
                record("reward/" + key.removeprefix(task.term_prefix), mean)
        kl, entropy = torch.stack(kl_and_entropy(self.locals["logits"], self.locals["log_prior"])).mean(1).tolist()
        record("policy/kl_to_prior", kl)
        record("policy/entropy", entropy)
        return True


__all__ = ["TuningStatsCallback"]
