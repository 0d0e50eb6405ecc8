"""RL Tuner agents: Q, Ψ and G learning and the RL-only baseline with Stable-Baselines3's API (SPEC §5-§7)."""

from agents.algorithms import GTuner, PsiTuner, QTuner, RLOnlyTuner
from agents.kl_ppo import KLPPO
from agents.policies import ALGORITHMS
from agents.training_state import NaNLossError
from agents.tuner import RLTuner

__all__ = ["ALGORITHMS", "KLPPO", "GTuner", "NaNLossError", "PsiTuner", "QTuner", "RLOnlyTuner", "RLTuner"]
