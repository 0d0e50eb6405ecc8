"""Eq. 9's per-note reward, GAE, leave-one-out advantages and PPO's clip, on numbers worked out by hand."""

import math

import pytest
import torch

from agents.kl.objectives import (
    approx_kl,
    clipped_surrogate_loss,
    gae_advantages,
    kl_penalised_reward,
    rloo_advantages,
)


def test_kl_penalised_reward_on_hand_numbers():
    music_theory = torch.tensor([3.0, -1.0])
    log_prior = torch.tensor([-1.5, -0.5])
    log_policy = torch.tensor([-1.0, -2.0])
    # 3 / 0.5 - 1.5 + 1.0 = 5.5 and -1 / 0.5 - 0.5 + 2.0 = -0.5
    reward = kl_penalised_reward(music_theory, log_prior, log_policy, c=0.5)
    assert reward.tolist() == pytest.approx([5.5, -0.5])
    # π = p: the KL term vanishes and only rMT/c is left
    assert kl_penalised_reward(music_theory, log_prior, log_prior, c=2.0).tolist() == pytest.approx([1.5, -0.5])


def test_gae_on_hand_numbers():
    rewards = torch.tensor([[1.0, 2.0, 3.0]])
    values = torch.tensor([[0.5, 1.0, 1.5]])
    # γ = 0.9, λ = 0.8: δ = [1 + 0.9 - 0.5, 2 + 1.35 - 1, 3 + 0 - 1.5] = [1.4, 2.35, 1.5] (last note terminal)
    # A2 = 1.5, A1 = 2.35 + 0.72 * 1.5 = 3.43, A0 = 1.4 + 0.72 * 3.43 = 3.8696
    advantages, returns = gae_advantages(rewards, values, gamma=0.9, gae_lambda=0.8)
    assert advantages[0].tolist() == pytest.approx([3.8696, 3.43, 1.5])
    assert returns[0].tolist() == pytest.approx([4.3696, 4.43, 3.0])
    # γ = λ = 1: the returns are the rewards still to come, whatever the values
    _, returns = gae_advantages(rewards, values, gamma=1.0, gae_lambda=1.0)
    assert returns[0].tolist() == pytest.approx([6.0, 5.0, 3.0])
    # λ = 0: one-step TD errors
    advantages, _ = gae_advantages(rewards, values, gamma=0.9, gae_lambda=0.0)
    assert advantages[0].tolist() == pytest.approx([1.4, 2.35, 1.5])
    with pytest.raises(ValueError, match=r"\(M, T\)"):
        gae_advantages(rewards[0], values[0], 1.0, 1.0)


def test_rloo_advantages_on_hand_numbers():
    returns = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0, 20.0])
    # group [1, 2, 3]: baselines [2.5, 2, 1.5]; group [4, 10, 20]: baselines [15, 12, 7]
    assert rloo_advantages(returns, k=3).tolist() == pytest.approx([-1.5, 0.0, 1.5, -11.0, -2.0, 13.0])
    assert rloo_advantages(returns, k=2).tolist() == pytest.approx([-1.0, 1.0, -1.0, 1.0, -10.0, 10.0])
    with pytest.raises(ValueError, match="multiple of k"):
        rloo_advantages(returns, k=4)
    with pytest.raises(ValueError, match="k >= 2"):
        rloo_advantages(returns, k=1)


def test_clipped_surrogate_loss_on_hand_numbers():
    log_ratio = torch.log(torch.tensor([1.5, 0.5]))
    # A > 0: min(1.5, 1.2) = 1.2 and min(0.5, 0.8) = 0.5, loss -(1.2 + 0.5) / 2
    assert float(clipped_surrogate_loss(log_ratio, torch.ones(2), 0.2)) == pytest.approx(-0.85)
    # A < 0: min(-1.5, -1.2) = -1.5 and min(-0.5, -0.8) = -0.8, loss (1.5 + 0.8) / 2
    assert float(clipped_surrogate_loss(log_ratio, -torch.ones(2), 0.2)) == pytest.approx(1.15)
    # at ratio 1 the gradient is REINFORCE's: -A ∇log π
    log_ratio = torch.zeros(3, requires_grad=True)
    clipped_surrogate_loss(log_ratio, torch.tensor([2.0, -1.0, 0.5]), 0.2).backward()
    assert log_ratio.grad.tolist() == pytest.approx([-2 / 3, 1 / 3, -0.5 / 3])


def test_approx_kl_on_hand_numbers():
    assert float(approx_kl(torch.tensor([math.log(2.0)]))) == pytest.approx(1.0 - math.log(2.0))
    assert float(approx_kl(torch.zeros(4))) == 0.0
