"""The four tuners with SB3's constructor, ``Algo(policy, env, ...)``, for SB3-family tools.

rl-zoo3 builds every algorithm in its ``ALGOS`` as ``Algo(env=..., policy=..., seed=..., verbose=...,
device=..., tensorboard_log=..., **hyperparameters)`` and reloads it with ``Algo.load(path, env=...)``;
these classes are :class:`~agents.tuner.RLTuner` with the algorithm fixed, so they fit there::

    from rl_zoo3.utils import ALGOS
    from agents import QTuner

    ALGOS["rltuner_q"] = QTuner  # then: python -m rl_zoo3.train --algo rltuner_q --env MelodyCompose-v0

``QTuner.load`` refuses a file holding another algorithm's tuner.
"""

from __future__ import annotations

from typing import Any

from agents.tuner import RLTuner


class _FixedAlgorithm(RLTuner):
    """RLTuner with ``ALGORITHM`` set by the subclass and SB3's ``(policy, env, **kwargs)`` arguments."""

    def __init__(self, policy: str | type = "RLTunerPolicy", env: Any = None, **kwargs: Any) -> None:
        super().__init__(self.ALGORITHM, env, policy=policy, **kwargs)


class QTuner(_FixedAlgorithm):
    """Q-learning (Eq. 4): ``QTuner(policy, env, **kwargs)`` is ``RLTuner("q", env, policy=policy, **kwargs)``."""

    ALGORITHM = "q"


class PsiTuner(_FixedAlgorithm):
    """Generalised Ψ-learning (Eq. 11): ``RLTuner("psi", env, policy=policy, **kwargs)``."""

    ALGORITHM = "psi"


class GTuner(_FixedAlgorithm):
    """G-learning (Eq. 13): ``RLTuner("g", env, policy=policy, **kwargs)``."""

    ALGORITHM = "g"


class RLOnlyTuner(_FixedAlgorithm):
    """The RL-only baseline (Q-learning on ``rMT / c``): ``RLTuner("rl_only", env, policy=policy, **kwargs)``."""

    ALGORITHM = "rl_only"


__all__ = ["GTuner", "PsiTuner", "QTuner", "RLOnlyTuner"]
