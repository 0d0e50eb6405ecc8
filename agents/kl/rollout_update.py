"""One KLPPO update from a rollout of whole episodes: rewards, advantages, clipped minibatch steps, c, logs.

:func:`train_on_rollout` turns a :class:`~agents.kl.rollout.Rollout` into Eq. 9's per-token rewards at the
current c, into advantages (GAE for PPO, leave-one-out for RLOO), runs ``n_epochs`` passes of
minibatches of whole episodes, then moves c (when adaptive) by the KL per token the rollout measured.
:class:`GoodState` keeps the last state whose update was finite, for the NaN guard.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from stable_baselines3.common.utils import explained_variance
from torch import Tensor
from torch.nn.utils import clip_grad_norm_

from agents.kl.objectives import (
    approx_kl,
    clipped_surrogate_loss,
    gae_advantages,
    kl_penalised_reward,
    rloo_advantages,
)
from agents.kl.rollout import Rollout
from agents.training_state import NaNLossError

STAT_KEYS = ("policy_gradient_loss", "value_loss", "entropy_loss", "approx_kl", "clip_fraction", "loss")


class GoodState:
    """A copy of the networks (with the value statistics) and Adam's state after the last finite update.

    :param agent: an object with ``policy`` (an ``nn.Module``) and ``optimizer``.
    """

    def __init__(self, agent: Any) -> None:
        self._agent = agent
        self.capture()

    @torch.no_grad()
    def capture(self) -> None:
        """Remember the current state as the last good one."""
        self._policy = {k: v.clone() for k, v in self._agent.policy.state_dict().items()}
        self._optimizer = copy.deepcopy(self._agent.optimizer.state_dict())

    def restore(self) -> None:
        """Put the last good state back."""
        self._agent.policy.load_state_dict(self._policy)
        self._agent.optimizer.load_state_dict(self._optimizer)


def train_on_rollout(agent: Any, rollout: Rollout) -> None:
    """Update ``agent`` (a :class:`agents.KLPPO`) on ``rollout``, then step its c controller and log.

    :raises NaNLossError: a loss or gradient norm is not finite; the agent is restored to its last good state.
    """
    c = agent.c_controller.c
    rewards = kl_penalised_reward(rollout.reward_terms, rollout.log_prior, rollout.log_policy, c)  # (M, T)
    episode_returns = rewards.sum(dim=1)  # (M,) Eq. 9's return of each episode
    ppo = agent.algorithm == "ppo"
    if ppo:
        advantages, returns = gae_advantages(rewards, rollout.values, agent.gamma, agent.gae_lambda)
        agent.policy.update_value_statistics(returns)
        targets = agent.policy.standardise(returns)
    else:
        advantages, targets = rloo_advantages(episode_returns, agent.rloo_k), None
    stats = []
    for _ in range(agent.n_epochs):
        for idx in torch.randperm(rollout.n_melodies, generator=agent._generator).split(agent.batch_size):
            stats.append(
                _minibatch_step(agent, rollout, idx, advantages[idx], None if targets is None else targets[idx])
            )
    agent._n_updates += agent.n_epochs
    n_tokens = rollout.tokens.numel()
    kl = float(rollout.kl.mean())
    agent.c_controller.update(kl, n_tokens)
    agent._good_state.capture()
    agent._episode_num += rollout.n_melodies
    agent.ep_info_buffer.extend({"r": float(r), "l": rollout.tokens.shape[1]} for r in episode_returns)
    record = agent.logger.record
    mean = torch.stack(stats).mean(0).tolist()
    for key, value in zip(STAT_KEYS, mean, strict=True):
        if ppo or key != "value_loss":
            record(f"train/{key}", value)
    if ppo:
        record(
            "train/explained_variance", explained_variance(rollout.values.flatten().numpy(), returns.flatten().numpy())
        )
    record("train/c", c)  # the c that weighed this rollout's rewards
    record("train/kl", kl)  # KL[π ‖ p] per token over the rollout
    record("train/n_updates", agent._n_updates, exclude="tensorboard")
    record("train/learning_rate", agent.learning_rate)
    record("train/clip_range", agent.clip_range)


def _minibatch_step(agent: Any, rollout: Rollout, idx: Tensor, advantages: Tensor, targets: Tensor | None) -> Tensor:
    """One Adam step on the episodes ``idx``; returns the :data:`STAT_KEYS` values as a tensor."""
    policy, clip = agent.policy, agent.clip_range
    logits, values = policy.evaluate(rollout.tokens[idx])  # (B, T, V), (B, T)
    log_probs = torch.log_softmax(logits, dim=-1)
    log_ratio = log_probs.gather(2, rollout.actions[idx].unsqueeze(-1)).squeeze(-1) - rollout.log_policy[idx]
    log_ratio_pg = log_ratio.sum(dim=1) if targets is None else log_ratio  # RLOO: one ratio per episode, as TRL
    if agent.normalize_advantage and advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    pg_loss = clipped_surrogate_loss(log_ratio_pg, advantages, clip)
    value_loss = F.mse_loss(values, targets) if targets is not None else torch.zeros(())
    entropy_loss = (log_probs.exp() * log_probs).sum(-1).mean()  # −H[π], SB3's sign
    loss = pg_loss + agent.ent_coef * entropy_loss + value_loss
    agent.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norms = [clip_grad_norm_(group, agent.max_grad_norm, foreach=True) for group in _parameter_groups(agent)]
    if not torch.isfinite(torch.stack([loss.detach(), *norms])).all():
        _on_nan(agent, float(loss.detach()), [float(n) for n in norms])
    agent.optimizer.step()
    with torch.no_grad():
        clip_fraction = ((log_ratio_pg.exp() - 1).abs() > clip).float().mean()
        return torch.stack([pg_loss, value_loss, entropy_loss, approx_kl(log_ratio), clip_fraction, loss]).detach()


def _parameter_groups(agent: Any) -> list[list[Tensor]]:
    groups = [list(agent.policy.actor.parameters())]
    if agent.algorithm == "ppo":
        groups.append(list(agent.policy.critic.parameters()))
    return groups


def _on_nan(agent: Any, loss: float, norms: list[float]) -> None:
    agent._good_state.restore()
    where = ""
    if agent.nan_checkpoint_path is not None:
        where = f"; the last good state was written to {agent.save(agent.nan_checkpoint_path)}"
    raise NaNLossError(
        f"KLPPO ({agent.algorithm}) produced a non-finite loss or gradient (loss {loss}, gradient norms {norms}) "
        f"after {agent.num_timesteps} environment steps and {agent._n_updates} epochs. The networks were restored "
        f"to the last good state{where}. Lower learning_rate, raise c, or check the env's reward terms "
        "and info['log_prior'] for NaN/inf."
    )


__all__ = ["STAT_KEYS", "GoodState", "train_on_rollout"]
