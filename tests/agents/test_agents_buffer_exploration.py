"""Replay with LSTM state, ε schedule and Boltzmann sampling."""

import pytest
import torch

from agents.buffer import RecurrentReplayBuffer
from agents.exploration import Boltzmann, EpsilonGreedy, linear_schedule, make_exploration


def _add(buffer, start, n, hidden=3):
    ids = torch.arange(start, start + n)
    buffer.add(
        ids % 38,
        (ids[:, None].float().expand(n, hidden), -ids[:, None].float().expand(n, hidden)),
        ids % 5,
        ids.float(),
        -2 * ids.float(),
        ids % 2 == 0,
    )


def test_buffer_wraps_and_keeps_rows_together():
    buffer = RecurrentReplayBuffer(capacity=5, state_sizes=(3, 3), num_actions=38)
    _add(buffer, 0, 3)
    _add(buffer, 3, 4)  # wraps: rows hold 5, 6, 2, 3, 4
    assert len(buffer) == 5 and buffer.pos == 2
    assert buffer.log_prior.tolist() == [5.0, 6.0, 2.0, 3.0, 4.0]
    assert buffer.reward_terms.tolist() == [-10.0, -12.0, -4.0, -6.0, -8.0]  # rMT kept apart from log p
    batch = buffer.sample(batch_size=8, num_batches=3, generator=torch.Generator().manual_seed(0))
    h, cell = batch.state
    assert h.shape == (3, 8, 3) and batch.token.shape == (3, 8) and batch.next_log_prior is None
    ids = batch.log_prior.long()
    assert torch.equal(batch.reward_terms, -2 * ids.float())
    assert torch.equal(h[..., 0], ids.float()) and torch.equal(cell[..., 2], -ids.float())
    assert [None if f is None else f.shape[:2] for f in batch.flat()][:3] == [(3, 8)] * 3  # token, h, cell
    assert torch.equal(batch.action, ids % 5) and torch.equal(batch.done, ids % 2 == 0)
    assert set(ids.flatten().tolist()) <= {2, 3, 4, 5, 6}


def test_buffer_prior_only_for_g():
    buffer = RecurrentReplayBuffer(4, (2, 2), 38, store_prior=True)
    with pytest.raises(ValueError, match="next_log_prior"):
        buffer.add(
            torch.zeros(1, dtype=torch.long),
            (torch.zeros(1, 2), torch.zeros(1, 2)),
            torch.zeros(1, dtype=torch.long),
            torch.zeros(1),
            torch.zeros(1),
            torch.zeros(1, dtype=torch.bool),
        )


def test_linear_schedule_spec6():
    # docs/spec.md §6: 1.0 → 0.1 over 500,000 steps
    assert linear_schedule(0, 1.0, 0.1, 500_000) == 1.0
    assert linear_schedule(250_000, 1.0, 0.1, 500_000) == pytest.approx(0.55)
    assert linear_schedule(500_000, 1.0, 0.1, 500_000) == pytest.approx(0.1)
    assert linear_schedule(2_000_000, 1.0, 0.1, 500_000) == pytest.approx(0.1)


def test_egreedy_greedy_and_random():
    logits = torch.tensor([[0.0, 5.0, 1.0]] * 2000)
    g = torch.Generator().manual_seed(0)
    greedy = EpsilonGreedy(0.0, 0.0, 10).select(logits, 0, g)
    assert (greedy == 1).all()
    uniform = EpsilonGreedy(1.0, 1.0, 10).select(logits, 0, g)
    counts = torch.bincount(uniform, minlength=3).float() / 2000
    assert torch.allclose(counts, torch.full((3,), 1 / 3), atol=0.05)


def test_boltzmann_samples_the_softmax():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).expand(20_000, 3)
    actions = Boltzmann(1.0).select(logits, 0, torch.Generator().manual_seed(1))
    freq = torch.bincount(actions, minlength=3).float() / 20_000
    assert torch.allclose(freq, torch.tensor([0.7, 0.2, 0.1]), atol=0.02)


def test_bad_exploration_is_refused():
    with pytest.raises(ValueError, match="exploration"):
        make_exploration("softmax", 1.0, 0.1, 10, 1.0)
    with pytest.raises(ValueError, match="temperature"):
        Boltzmann(0.0)
