"""The original's data labelling (0 = hold, 1 = rest) as a switch of the Note RNN's training data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from melody_env.labels import relabel_corpus, swap_hold_and_rest
from melody_env.note_rnn import NoteRNNConfig
from melody_env.training import train_note_rnn
from rl_tuner_cli.train_note_rnn import parse_args


def test_swap_exchanges_note_off_and_hold_only() -> None:
    # D3 for two 16ths, a two-step rest, E3, C3 held three steps
    melody = np.array([4, 1, 0, 1, 6, 2, 1, 1], dtype=np.int8)
    swapped = swap_hold_and_rest(melody)
    assert swapped.tolist() == [4, 0, 1, 0, 6, 2, 0, 0]
    assert swapped.dtype == np.int8
    assert melody.tolist() == [4, 1, 0, 1, 6, 2, 1, 1]  # the input is not modified
    assert swap_hold_and_rest(swapped).tolist() == melody.tolist()


def _corpus() -> SimpleNamespace:
    rng = np.random.default_rng(0)

    def melody(n: int) -> np.ndarray:
        # onsets followed by holds or a rest: every class 0, 1 and several onsets occur
        steps = []
        while len(steps) < n:
            steps += [int(rng.integers(2, 38)), *([1] * int(rng.integers(0, 3))), *([0] * int(rng.integers(0, 2)))]
        return np.array(steps[:n], dtype=np.int8)

    return SimpleNamespace(
        train=[melody(40) for _ in range(20)], valid=[melody(30) for _ in range(4)], summary={"keep": 1}
    )


def test_relabel_corpus_swaps_the_training_and_validation_melodies() -> None:
    corpus = _corpus()
    assert relabel_corpus(corpus, "paper") is corpus
    original = relabel_corpus(corpus, "original")
    for mine, theirs in ((original.train, corpus.train), (original.valid, corpus.valid)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert (a == 0).sum() == (b == 1).sum() and (a == 1).sum() == (b == 0).sum()
            assert np.array_equal(a[b >= 2], b[b >= 2])
    assert corpus.train[0].tolist() != original.train[0].tolist()
    with pytest.raises(ValueError, match="label_convention must be one of"):
        relabel_corpus(corpus, "magenta")


def test_original_labels_train_exactly_as_on_the_swapped_data() -> None:
    """The switch changes the data only: the same run on data swapped by hand gives the same weights."""
    corpus = _corpus()
    hand = SimpleNamespace(
        train=[swap_hold_and_rest(m) for m in corpus.train], valid=[swap_hold_and_rest(m) for m in corpus.valid]
    )
    kwargs = {"iterations": 6, "batch_size": 8, "window": 12, "skip_steps": 2, "eval_every": 3, "seed": 2,
              "config": NoteRNNConfig(hidden_size=8), "progress": False}  # fmt: skip
    switched = train_note_rnn(corpus, label_convention="original", **kwargs)
    by_hand = train_note_rnn(hand, **kwargs)
    paper = train_note_rnn(corpus, **kwargs)
    assert switched.best_val_loss == by_hand.best_val_loss
    for key, value in switched.model.state_dict().items():
        assert torch.equal(by_hand.model.state_dict()[key], value), key
    assert not torch.equal(paper.model.head.bias, switched.model.head.bias)


def test_training_command_takes_labels() -> None:
    assert parse_args([]).labels == "paper"
    assert parse_args(["--labels", "original"]).labels == "original"
    with pytest.raises(ValueError, match="--labels must be one of paper, original"):
        parse_args(["--labels", "swapped"])
