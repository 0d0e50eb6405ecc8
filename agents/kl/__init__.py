"""KL-regularised tuning: the adaptive c controller (:mod:`.control`, used by RLTuner's ``c="auto"``) and
the on-policy KLPPO agent, PPO or RLOO with the KL to the prior in the reward (:mod:`.ppo` and its parts)."""

__all__: list[str] = []
