"""Targets of Eq. 4, 11 and 13 and the policies of Eq. 5, 12, 14 on numbers worked out by hand."""

import math

import pytest
import torch

from agents.networks import kl_and_entropy, policy_logits
from agents.step.targets import g_target, psi_target, q_target

LN2 = math.log(2.0)


def test_q_target_eq4_by_hand():
    # y = r + γ max_a' Q⁻(s', a'): 1 + 0.5 · 3 = 2.5 ; -2 + 0.5 · (-1) = -2.5
    reward = torch.tensor([1.0, -2.0])
    next_q = torch.tensor([[0.0, 3.0, -1.0], [-1.0, -4.0, -2.0]])
    y = q_target(reward, next_q, torch.tensor([False, False]), gamma=0.5)
    assert y.tolist() == pytest.approx([2.5, -2.5])


def test_psi_target_eq11_by_hand():
    # log Σ exp Ψ⁻ over (0, 0) = ln 2 ; over (ln 3, 0) = ln 4 = 2 ln 2
    reward = torch.tensor([0.5, 1.0])
    next_psi = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    y = psi_target(reward, next_psi, torch.tensor([False, False]), gamma=0.5)
    assert y.tolist() == pytest.approx([0.5 + 0.5 * LN2, 1.0 + 0.5 * 2 * LN2])


def test_g_target_eq13_by_hand():
    # log Σ exp(log p + G⁻): p = (1/4, 3/4), G⁻ = (ln 2, 0) → log(1/2 + 3/4) = ln(5/4)
    reward = torch.tensor([2.0])
    next_g = torch.tensor([[LN2, 0.0]])
    next_log_prior = torch.log(torch.tensor([[0.25, 0.75]]))
    y = g_target(reward, next_g, next_log_prior, torch.tensor([False]), gamma=0.5)
    assert y.item() == pytest.approx(2.0 + 0.5 * math.log(1.25))
    # with a uniform prior over 2 actions and G⁻ = 0 the bootstrap is log 1 = 0
    flat = g_target(reward, torch.zeros(1, 2), torch.full((1, 2), -LN2), torch.tensor([False]), gamma=0.5)
    assert flat.item() == pytest.approx(2.0)


@pytest.mark.parametrize("target", ["q", "psi", "g"])
def test_terminal_state_is_not_bootstrapped(target):
    # the melody's last note: y = r exactly, even when the next values are huge or not finite
    reward = torch.tensor([1.25, -3.0])
    next_values = torch.tensor([[1e6, float("nan")], [5.0, 7.0]])
    done = torch.tensor([True, True])
    if target == "q":
        y = q_target(reward, next_values, done, 0.5)
    elif target == "psi":
        y = psi_target(reward, next_values, done, 0.5)
    else:
        y = g_target(reward, next_values, torch.zeros(2, 2), done, 0.5)
    assert y.tolist() == [1.25, -3.0]


def test_done_masks_only_its_row():
    y = q_target(torch.zeros(2), torch.tensor([[2.0], [2.0]]), torch.tensor([True, False]), 0.5)
    assert y.tolist() == [0.0, 1.0]


def test_policy_logits_eq5_12_14():
    values = torch.tensor([[1.0, 2.0]])
    log_prior = torch.log(torch.tensor([[0.9, 0.1]]))
    assert torch.equal(policy_logits("q", values, None), values)
    assert torch.equal(policy_logits("psi", values, None), values)
    g = policy_logits("g", values, log_prior)
    # π ∝ p·exp G: (0.9 e, 0.1 e²) → argmax is action 0, probabilities 0.9e/(0.9e+0.1e²)
    pi = torch.softmax(g, -1)
    expected = 0.9 * math.e / (0.9 * math.e + 0.1 * math.e**2)
    assert pi[0, 0].item() == pytest.approx(expected)
    with pytest.raises(ValueError, match="log p"):
        policy_logits("g", values, None)


def test_kl_and_entropy_by_hand():
    # π uniform over 2, p = (1/4, 3/4): KL = ½ ln(½/¼) + ½ ln(½/¾) = ½ ln(4/3), H = ln 2
    kl, entropy = kl_and_entropy(torch.zeros(1, 2), torch.log(torch.tensor([[0.25, 0.75]])))
    assert kl.item() == pytest.approx(0.5 * math.log(4 / 3))
    assert entropy.item() == pytest.approx(LN2)
