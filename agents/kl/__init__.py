"""On-policy KL-regularised tuning: the KLPPO agent, PPO or RLOO with the KL to the prior in the reward (:mod:`.ppo`
and its parts: the actor-critic, rollouts, objectives, the update, saving)."""

__all__: list[str] = []
