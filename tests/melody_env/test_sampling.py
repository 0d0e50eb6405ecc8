"""The shared sampler draws from softmax(logits / T), takes the argmax at T = 0, and is seeded."""

from __future__ import annotations

import math

import pytest
import torch

from sequence_env.sampling import sample_logits


def test_frequencies_follow_the_tempered_softmax() -> None:
    # p = softmax([0, log 2, log 7]) = (0.1, 0.2, 0.7); at T = 2 it is ∝ (1, √2, √7).
    logits = torch.tensor([[0.0, math.log(2.0), math.log(7.0)]]).expand(200_000, 3)
    gen = torch.Generator().manual_seed(0)
    counts = torch.bincount(sample_logits(logits, 1.0, gen), minlength=3) / 200_000
    assert counts.tolist() == pytest.approx([0.1, 0.2, 0.7], abs=0.005)
    weights = torch.tensor([1.0, math.sqrt(2.0), math.sqrt(7.0)])
    counts = torch.bincount(sample_logits(logits, 2.0, gen), minlength=3) / 200_000
    assert counts.tolist() == pytest.approx((weights / weights.sum()).tolist(), abs=0.005)


def test_zero_probability_classes_are_never_drawn() -> None:
    logits = torch.tensor([[-math.inf, 0.0, -math.inf, 0.0]]).expand(10_000, 4)
    drawn = sample_logits(logits, 1.0, torch.Generator().manual_seed(1))
    assert set(drawn.tolist()) == {1, 3}


def test_greedy_seeded_and_errors() -> None:
    logits = torch.randn(64, 38, generator=torch.Generator().manual_seed(2))
    assert torch.equal(sample_logits(logits, 0.0), logits.argmax(1))
    a = sample_logits(logits, 1.0, torch.Generator().manual_seed(3))
    b = sample_logits(logits, 1.0, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sample_logits(logits, -1.0)
