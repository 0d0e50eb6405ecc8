"""The numpy steppers give the prior's own step numbers (log-probabilities and state) to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from melody_env.note_rnn import NoteRNN
from sequence_env.envs.frozen import FrozenLSTM, TorchStepper, frozen_stepper
from sequence_env.lstm import LSTMConfig, LSTMPrior


def _scaled(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():  # larger weights than the default init, so a wrong gate order shows
        for p in model.parameters():
            p.mul_(3.0)
    return model.eval()


@pytest.mark.parametrize(("layers", "batch"), [(1, 1), (1, 5), (2, 5)])
def test_steps_match_the_torch_model(layers: int, batch: int) -> None:
    torch.manual_seed(0)
    model = _scaled(NoteRNN() if layers == 1 else LSTMPrior(LSTMConfig(38, 24, layers)))
    frozen = frozen_stepper(model)
    assert isinstance(frozen, FrozenLSTM if layers == 1 else TorchStepper)
    tokens = np.random.default_rng(0).integers(0, 38, (6, batch))
    state, torch_state = frozen.initial_state(batch), None
    for step in tokens:
        log_probs, state = frozen.step(step, state)
        with torch.no_grad():
            logits, torch_state = model.step(torch.as_tensor(step), torch_state)
        np.testing.assert_allclose(log_probs, torch.log_softmax(logits, 1).numpy(), atol=2e-5)
        for mine, theirs in zip(state, torch_state, strict=True):
            np.testing.assert_allclose(mine, theirs.numpy(), atol=1e-5)
    assert log_probs.dtype == state[0].dtype == np.float32
    np.testing.assert_allclose(np.exp(log_probs).sum(1), 1.0, rtol=1e-5)


def test_copy_does_not_follow_later_changes() -> None:
    model = NoteRNN().eval()
    frozen = FrozenLSTM(model)
    before = frozen.step(np.array([14]), frozen.initial_state(1))[0]
    with torch.no_grad():
        model.head.bias.add_(1.0)
    np.testing.assert_array_equal(frozen.step(np.array([14]), frozen.initial_state(1))[0], before)


def test_frozen_lstm_refuses_several_layers() -> None:
    with pytest.raises(ValueError, match="one-layer"):
        FrozenLSTM(LSTMPrior(LSTMConfig(10, 8, 2)))
