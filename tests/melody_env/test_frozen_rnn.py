"""The numpy Reward RNN gives NoteRNN.step's numbers (log-probabilities and state) to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from melody_env.frozen_rnn import FrozenNoteRNN
from melody_env.note_rnn import NoteRNN


@pytest.mark.parametrize("batch", [1, 5])
def test_steps_match_the_torch_model(batch: int) -> None:
    torch.manual_seed(0)
    model = NoteRNN().eval()
    with torch.no_grad():  # larger weights than the default init, so a wrong gate order shows
        for p in model.parameters():
            p.mul_(3.0)
    frozen = FrozenNoteRNN(model)
    notes = np.random.default_rng(0).integers(0, 38, (6, batch))
    h, c = frozen.initial_state(batch)
    state = None
    for step in notes:
        log_probs, h, c = frozen.step(step, h, c)
        with torch.no_grad():
            logits, state = model.step(torch.as_tensor(step), state)
        np.testing.assert_allclose(log_probs, torch.log_softmax(logits, 1).numpy(), atol=2e-5)
        np.testing.assert_allclose(h, state[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(c, state[1].numpy(), atol=1e-5)
    assert log_probs.dtype == h.dtype == np.float32
    np.testing.assert_allclose(np.exp(log_probs).sum(1), 1.0, rtol=1e-5)


def test_copy_does_not_follow_later_changes() -> None:
    model = NoteRNN().eval()
    frozen = FrozenNoteRNN(model)
    before = frozen.step(np.array([14]), *frozen.initial_state(1))[0]
    with torch.no_grad():
        model.head.bias.add_(1.0)
    np.testing.assert_array_equal(frozen.step(np.array([14]), *frozen.initial_state(1))[0], before)
