"""RL Tuner agents: Q, Ψ and G learning, the RL-only baseline and KL-regularised policy gradient, with SB3's API.

See docs/spec.md §5-§7. :class:`Population` trains K tuners in lock-step.
"""

from agents.algorithms import GTuner, PsiTuner, QTuner, RLOnlyTuner
from agents.kl.ppo import KLPPO
from agents.networks import ALGORITHMS
from agents.population import Population
from agents.training_state import NaNLossError
from agents.tuner import RLTuner

__all__ = [
    "ALGORITHMS",
    "KLPPO",
    "GTuner",
    "NaNLossError",
    "Population",
    "PsiTuner",
    "QTuner",
    "RLOnlyTuner",
    "RLTuner",
]
