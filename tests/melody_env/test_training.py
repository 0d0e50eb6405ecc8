"""Note RNN training (docs/spec.md §3) on small synthetic corpora."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from melody_env.note_rnn import KIND, NoteRNN, NoteRNNConfig
from melody_env.training import (
    TrainingDivergedError,
    WindowSampler,
    evaluate,
    l2_penalty,
    masked_cross_entropy,
    opening_windows,
    train_note_rnn,
    validation_windows,
)
from sequence_env.checkpoint import load_checkpoint

TINY = NoteRNNConfig(hidden_size=16)


def synthetic_corpus(seed: int = 0, n_train: int = 40, n_valid: int = 8) -> SimpleNamespace:
    """Scale runs of eighth notes (onset, hold) stepping up 1 or 2 semitones: easy to learn."""
    rng = np.random.default_rng(seed)

    def melody(length: int) -> np.ndarray:
        notes, pitch = [], int(rng.integers(2, 20))
        while len(notes) < length:
            notes += [pitch, 1]
            pitch = 2 + (pitch - 2 + int(rng.integers(1, 3))) % 36
        return np.array(notes[:length], dtype=np.int8)

    return SimpleNamespace(
        train=[melody(int(rng.integers(30, 80))) for _ in range(n_train)],
        valid=[melody(60) for _ in range(n_valid)],
    )


def test_masked_cross_entropy_by_hand() -> None:
    logits = torch.zeros(1, 3, 38)  # uniform: −log(1/38) at every position
    logits[0, 2, 5] = 100.0  # position 2 certain of class 5
    targets = torch.tensor([[4, 4, 5]])
    mask = torch.tensor([[False, True, True]])
    assert float(masked_cross_entropy(logits, targets, mask)) == pytest.approx(math.log(38) / 2, rel=1e-6)
    assert float(masked_cross_entropy(logits, targets, torch.tensor([[True, False, False]]))) == pytest.approx(
        math.log(38), rel=1e-6
    )


def test_l2_penalty_by_hand() -> None:
    """Weights all 1 (biases excluded): 2.5e-5 · ½ · (400·38 + 400·100 + 38·100)."""
    net = NoteRNN()
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    assert l2_penalty(net, 2.5e-5).item() == pytest.approx(2.5e-5 * 0.5 * (15_200 + 40_000 + 3_800))


def test_training_windows_stay_inside_one_melody_and_skip_the_first_steps() -> None:
    melodies = [np.arange(2, 32), np.full(12, 1)]  # 30 steps and a short 12-step melody
    sampler = WindowSampler(melodies, window=16, skip_steps=3, rng=np.random.default_rng(0))
    assert list(sampler.counts) == [30 - 16, 1]
    inputs, targets, mask = sampler.sample(200)
    assert inputs.shape == targets.shape == mask.shape == (200, 16)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])
    assert not mask[:, :3].any()
    for row, t, m in zip(inputs, targets, mask, strict=True):
        if row[0] == 1:  # the short melody: 11 targets, the first 3 skipped, the padding masked
            assert m.tolist() == [False] * 3 + [True] * 8 + [False] * 5
            assert (t[m] == 1).all()
        else:  # a window of the rising melody: consecutive numbers, fully counted after the skip
            assert torch.equal(t, row + 1) and m[3:].all()
    assert {int(r[0]) for r in inputs} == {1, *range(2, 16)}  # every start drawn


def test_opening_windows_count_every_step_from_the_melody_start() -> None:
    melodies = [np.arange(2, 32), np.full(12, 1)]
    sampler = WindowSampler(melodies, window=16, skip_steps=3, rng=np.random.default_rng(0), start_fraction=1.0)
    inputs, _, mask = sampler.sample(50)
    assert set(inputs[:, 0].tolist()) == {1, 2}  # every window starts at a melody's first step
    rising = inputs[:, 0] == 2
    assert mask[rising].all() and mask[~rising].sum(1).tolist() == [11] * int((~rising).sum())
    half = WindowSampler(melodies, 16, 3, np.random.default_rng(0), start_fraction=0.5).sample(2000)
    counted_first = half[2][:, 0].float().mean().item()  # only opening windows count position 0
    assert counted_first == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="start_fraction"):
        WindowSampler(melodies, 16, 3, np.random.default_rng(0), start_fraction=1.5)


def test_opening_windows_by_hand() -> None:
    """The first 3 predictions of each melody from its start: targets 3, 4, 5 and 8, 8 (a 3-step melody)."""
    inputs, targets, mask = opening_windows([np.arange(2, 22), np.array([8, 8, 8])], window=8, steps=3)
    assert inputs[:, 0].tolist() == [2, 8]
    assert targets[mask].tolist() == [3, 4, 5, 8, 8]


def test_validation_windows_count_by_hand() -> None:
    """A 20-step melody, window 8, skip 2: windows at 0, 8, 16 count 6 + 6 + 1 targets."""
    inputs, targets, mask = validation_windows([np.arange(2, 22)], window=8, skip_steps=2)
    assert inputs.shape == (3, 8)
    assert mask.sum(1).tolist() == [6, 6, 1]
    assert targets[mask].tolist() == list(range(5, 11)) + list(range(13, 19)) + [21]
    with pytest.raises(ValueError, match="no validation melody"):
        validation_windows([np.arange(3)], window=8, skip_steps=2)


def test_short_training_lowers_validation_loss() -> None:
    corpus = synthetic_corpus()
    kwargs = {
        "iterations": 60,
        "batch_size": 32,
        "window": 24,
        "learning_rate": 1e-2,
        "skip_steps": 2,
        "eval_every": 20,
        "seed": 1,
        "config": TINY,
        "progress": False,
    }
    with torch.random.fork_rng():
        torch.manual_seed(1)
        untrained = NoteRNN(TINY).eval()
    before, _ = evaluate(untrained, validation_windows(corpus.valid, 24, 2))
    result = train_note_rnn(corpus, **kwargs)
    assert result.steps == 60 and [h["step"] for h in result.history] == [20, 40, 60]
    assert result.best_val_loss < 0.6 * before
    assert result.log_perplexity == result.best_val_loss
    best = next(h for h in result.history if h["step"] == result.best_step)
    assert result.opening_loss == best["opening_loss"]
    assert result.val_accuracy > 0.5 and result.stopped == "iterations"
    assert evaluate(result.model, validation_windows(corpus.valid, 24, 2))[0] == pytest.approx(result.best_val_loss)
    again = train_note_rnn(corpus, **kwargs)
    for key, value in result.model.state_dict().items():
        assert torch.equal(again.model.state_dict()[key], value), key


def test_early_stopping_when_validation_does_not_improve(tmp_path) -> None:
    result = train_note_rnn(
        synthetic_corpus(),
        iterations=100,
        batch_size=8,
        window=16,
        learning_rate=0.0,
        skip_steps=2,
        eval_every=5,
        patience=2,
        config=TINY,
        progress=False,
    )
    assert result.stopped == "early_stopping"
    assert result.steps == 15 and result.best_step == 5


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path) -> None:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = NoteRNN(TINY)
    calls = {"n": 0}

    def poison(module, inputs, output):  # from the 26th training step on, the logits are NaN
        calls["n"] += module.training
        return output * float("nan") if calls["n"] > 25 else output

    model.head.register_forward_hook(poison)
    with pytest.raises(TrainingDivergedError, match=r"diverged at step \d+: the loss is nan.*keeps the best"):
        train_note_rnn(
            synthetic_corpus(),
            iterations=50,
            batch_size=8,
            window=16,
            skip_steps=2,
            eval_every=10,
            model=model,
            checkpoint_path=tmp_path / "best",
            progress=False,
        )
    saved = load_checkpoint(tmp_path / "best", KIND)
    assert saved.metadata["step"] == 20
    assert all(torch.isfinite(t).all() for t in saved.tensors.values())
    assert NoteRNN.load(tmp_path / "best").config == TINY


def test_nan_before_any_validation_says_nothing_was_kept() -> None:
    model = NoteRNN(TINY)
    model.head.register_forward_hook(lambda module, inputs, output: output * float("nan"))
    with pytest.raises(TrainingDivergedError, match="step 1: the loss is nan; no validation had run yet"):
        train_note_rnn(
            synthetic_corpus(), iterations=5, batch_size=8, window=16, skip_steps=2, model=model, progress=False
        )


def test_bad_arguments_are_refused() -> None:
    corpus = synthetic_corpus()
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        train_note_rnn(corpus, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="skip_steps must be in"):
        train_note_rnn(corpus, window=8, skip_steps=8, progress=False)
    with pytest.raises(ValueError, match="no training melody"):
        train_note_rnn(SimpleNamespace(train=[np.arange(3)], valid=corpus.valid), progress=False)


def test_training_script_smoke(tmp_path, monkeypatch) -> None:
    import rl_tuner_cli.train_note_rnn as script

    monkeypatch.setattr(
        script, "load_corpus", lambda source, **_: SimpleNamespace(**vars(synthetic_corpus()), summary={"melodies": 48})
    )
    out = tmp_path / "nr"
    assert (
        script.main(
            [
                "--out",
                str(out),
                "--iterations",
                "4",
                "--eval-every",
                "2",
                "--batch-size",
                "4",
                "--window",
                "16",
                "--no-progress",
            ]
        )
        == 0
    )
    loaded = load_checkpoint(out, KIND)
    assert loaded.metadata["steps"] == 4 and loaded.metadata["args"]["window"] == 16
    text = (tmp_path / "nr.md").read_text()
    assert "log perplexity" in text and "--iterations 4" in text and "0.2536" in text and "opening loss" in text
    assert loaded.metadata["args"]["start_fraction"] == 0.25


def test_empty_validation_split_names_the_cause_and_the_flag() -> None:
    corpus = synthetic_corpus()
    with pytest.raises(ValueError, match=r"validation split is empty \(40 training, 0 validation.*--valid-fraction"):
        train_note_rnn(SimpleNamespace(train=corpus.train, valid=[]), progress=False)
    with pytest.raises(ValueError, match=r"training split is empty \(0 training, 1 validation.*single tune"):
        train_note_rnn(SimpleNamespace(train=[], valid=corpus.valid[:1]), progress=False)
    with pytest.raises(ValueError, match=r"no validation melody has the 10 steps.*lower skip_steps"):
        train_note_rnn(SimpleNamespace(train=corpus.train, valid=[np.arange(2, 6)]), progress=False)
