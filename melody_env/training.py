"""Training the Note RNN on a melody corpus (docs/spec.md §3).

The paper's recipe: batches of 128, Adam, gradient norm clipped at 5, an L2 penalty of 2.5e-5 on
the weights added to the loss, and the loss of the first 8 steps of each sequence not used (the LSTM
starts each sequence from a zero state and has no context there). Training sequences are windows of
``window + 1`` tokens cut at random places from the training melodies (each (melody, start) pair
equally likely, so every token is about equally likely to be trained on); a melody shorter than a
window is padded and masked. Validation uses fixed windows at starts 0, window, 2·window, … of every
validation melody with the same first-8 exclusion, so its loss is the mean cross-entropy in nats of
the model's next-note prediction, comparable to the paper's log perplexity (0.2536 on its data).

The rule leaves the first 8 predictions from a fresh state untrained, yet that is exactly how the
environment uses the model (zero state, one primer note, 32 notes). Trained that way the model
composes off-distribution from a single note (measured: 27 % held steps in its samples against 59 %
in the data). ``start_fraction`` > 0 adds windows that begin at a melody's first step and count every
step: nothing is missing there, the zero state is the true one. The opening loss (first 8
predictions of each validation melody) is reported beside the paper's metric.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from melody_env.labels import relabel_corpus
from melody_env.note_rnn import NoteRNN, NoteRNNConfig


class MelodyCorpus(Protocol):
    """Anything with ``train`` and ``valid`` lists of 1-D integer token arrays (``melody_env.data.Corpus``)."""

    train: Sequence[np.ndarray]
    valid: Sequence[np.ndarray]


class TrainingDivergedError(FloatingPointError):
    """The loss or the gradient norm became NaN or infinite."""


@dataclass
class NoteRNNTrainingResult:
    """What :func:`train_note_rnn` returns.

    :param model: the model with the best validation loss, in eval mode.
    :param steps: gradient steps taken.
    :param seconds: wall time of the training loop.
    :param best_step: step of the best validation loss.
    :param best_val_loss: best validation loss (the log perplexity there).
    :param val_accuracy: validation next-note accuracy at the best step.
    :param log_perplexity: mean validation cross-entropy in nats at the best step (= ``best_val_loss``).
    :param opening_loss: mean validation cross-entropy of the first ``max(skip_steps, 1)`` predictions
        of each melody from the zero state (the env's regime), at the best step.
    :param stopped: ``"iterations"``, ``"early_stopping"`` or ``"max_seconds"``.
    :param history: one dict per validation: step, seconds, train_loss, val_loss, val_accuracy,
        opening_loss, opening_accuracy.
    """

    model: NoteRNN
    steps: int
    seconds: float
    best_step: int
    best_val_loss: float
    val_accuracy: float
    log_perplexity: float
    opening_loss: float
    stopped: str
    history: list[dict[str, float]] = field(default_factory=list)


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of −log softmax(logits)[target] over the positions where ``mask`` is true (nats).

    :param logits: ``(B, T, C)``.
    :param targets: ``(B, T)`` int64.
    :param mask: ``(B, T)`` bool, the positions that count.
    """
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")  # (B*T,)
    weights = mask.reshape(-1).to(ce.dtype)
    return (ce * weights).sum() / weights.sum().clamp_min(1.0)


def l2_penalty(model: NoteRNN, l2: float) -> torch.Tensor:
    """``l2 · ½ Σ w²`` over the weight matrices (not the biases), the paper's L2 term (docs/spec.md §3).

    The ½ follows TensorFlow's ``tf.nn.l2_loss``, the usual form of an L2 hyperparameter there.
    """
    weights = (model.lstm.weight_ih_l0, model.lstm.weight_hh_l0, model.head.weight)
    return l2 * 0.5 * sum(w.pow(2).sum() for w in weights)


def _concat(melodies: Sequence[np.ndarray], pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Melodies laid end to end, each followed by ``pad`` zeros: (flat tokens, offsets, lengths)."""
    lengths = np.array([len(m) for m in melodies], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths + pad)[:-1]]).astype(np.int64)
    flat = np.zeros(int((lengths + pad).sum()), dtype=np.int64)
    for melody, offset in zip(melodies, offsets, strict=True):
        flat[offset : offset + len(melody)] = melody
    return flat, offsets, lengths


def _batch(flat: np.ndarray, starts: np.ndarray, ends: np.ndarray, window: int, skip_steps: int | np.ndarray):
    """Windows of ``window + 1`` tokens at absolute ``starts`` → (inputs, targets, mask), each (B, window).

    ``skip_steps`` (one for all, or one per window) leading positions of each window are not counted.
    """
    index = starts[:, None] + np.arange(window + 1)  # (B, window + 1)
    tokens = torch.from_numpy(flat[index])
    valid = torch.from_numpy(index[:, 1:] < ends[:, None])  # target exists inside its melody
    skip = torch.as_tensor(np.broadcast_to(skip_steps, starts.shape).copy())[:, None]  # (B, 1)
    mask = valid & (torch.arange(window) >= skip)  # (B, window)
    return tokens[:, :-1], tokens[:, 1:], mask


class WindowSampler:
    """Random training windows: every (melody, start) pair equally likely, plus optional melody openings.

    :param melodies: training melodies (1-D int arrays); those too short to give one counted target
        (``skip_steps + 2`` tokens) are left out.
    :param window: input steps per window (a window holds ``window + 1`` tokens).
    :param skip_steps: leading positions whose loss is not used.
    :param rng: numpy generator for the draws.
    :param start_fraction: share of windows that begin at a melody's first step and count every
        position (there the zero initial state is the true one, so no context is missing).
    """

    def __init__(
        self,
        melodies: Sequence[np.ndarray],
        window: int,
        skip_steps: int,
        rng: np.random.Generator,
        start_fraction: float = 0.0,
    ):
        kept = [np.asarray(m, dtype=np.int64) for m in melodies if len(m) >= skip_steps + 2]
        if not kept:
            raise ValueError(
                f"no training melody has the {skip_steps + 2} steps needed for one counted target "
                "(skip_steps + 2); lower skip_steps (--skip-steps) or use longer melodies"
            )
        if not 0.0 <= start_fraction <= 1.0:
            raise ValueError(f"start_fraction must be in [0, 1], got {start_fraction}")
        self.window, self.skip_steps, self.rng, self.start_fraction = window, skip_steps, rng, start_fraction
        self.flat, self.offsets, self.lengths = _concat(kept, window + 1)
        self.counts = np.maximum(self.lengths - window, 1)  # starts per melody
        self.probs = self.counts / self.counts.sum()
        self.num_melodies = len(kept)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``batch_size`` windows → (inputs, targets, mask), each ``(batch_size, window)``."""
        which = self.rng.choice(self.num_melodies, size=batch_size, p=self.probs)
        shift = (self.rng.random(batch_size) * self.counts[which]).astype(np.int64)
        skip = np.full(batch_size, self.skip_steps)
        if self.start_fraction > 0:  # no extra draw otherwise: the paper recipe's stream is unchanged
            opening = self.rng.random(batch_size) < self.start_fraction
            shift[opening], skip[opening] = 0, 0
        ends = self.offsets[which] + self.lengths[which]
        return _batch(self.flat, self.offsets[which] + shift, ends, self.window, skip)


def validation_windows(melodies: Sequence[np.ndarray], window: int, skip_steps: int):
    """Fixed validation windows at starts 0, window, 2·window, … of each melody → (inputs, targets, mask).

    Consecutive windows share one token (the last target of one is the first input of the next), so
    every token after the first is a target once, except the first ``skip_steps`` of each window.
    """
    kept = [np.asarray(m, dtype=np.int64) for m in melodies if len(m) >= skip_steps + 2]
    if not kept:
        raise ValueError(
            f"no validation melody has the {skip_steps + 2} steps needed for one counted target "
            "(skip_steps + 2); lower skip_steps (--skip-steps) or use longer melodies"
        )
    flat, offsets, lengths = _concat(kept, window + 1)
    starts, ends = [], []
    for offset, length in zip(offsets, lengths, strict=True):
        for s in range(0, int(length) - skip_steps - 1, window):
            starts.append(offset + s)
            ends.append(offset + length)
    return _batch(flat, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), window, skip_steps)


def opening_windows(melodies: Sequence[np.ndarray], window: int, steps: int):
    """The first ``steps`` predictions of every melody from the zero state → (inputs, targets, mask).

    This is the regime of the environment (a fresh state primed with one note) that the paper's
    first-8-steps rule leaves untrained; :func:`train_note_rnn` reports its loss beside the main one.
    """
    kept = [np.asarray(m, dtype=np.int64) for m in melodies if len(m) >= 2]
    flat, offsets, lengths = _concat(kept, window + 1)
    inputs, targets, mask = _batch(flat, offsets, offsets + lengths, window, 0)
    return inputs, targets, mask & (torch.arange(window) < steps)


@torch.no_grad()
def evaluate(model: NoteRNN, windows, batch_size: int = 1024) -> tuple[float, float]:
    """Mean validation cross-entropy (nats) and next-note accuracy over the masked positions.

    :param model: the Note RNN.
    :param windows: ``(inputs, targets, mask)`` from :func:`validation_windows`.
    :param batch_size: windows per forward pass.
    """
    inputs, targets, mask = windows
    total_ce = total_correct = 0.0
    count = int(mask.sum())
    for i in range(0, len(inputs), batch_size):
        logits, _ = model(inputs[i : i + batch_size])  # (b, window, 38)
        t, m = targets[i : i + batch_size], mask[i : i + batch_size]
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="none")
        total_ce += float(ce[m.reshape(-1)].sum())
        total_correct += float((logits.argmax(-1) == t)[m].sum())
    return total_ce / count, total_correct / count


def train_note_rnn(
    corpus: MelodyCorpus,
    *,
    iterations: int = 30_000,
    batch_size: int = 128,
    window: int = 64,
    learning_rate: float = 1e-3,
    clip_norm: float = 5.0,
    l2: float = 2.5e-5,
    skip_steps: int = 8,
    start_fraction: float = 0.0,
    eval_every: int = 500,
    patience: int = 10,
    max_seconds: float | None = None,
    seed: int = 0,
    config: NoteRNNConfig | None = None,
    model: NoteRNN | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    progress: bool = True,
    label_convention: str = "paper",
) -> NoteRNNTrainingResult:
    """Train a Note RNN with the paper's recipe (docs/spec.md §3), keeping the weights of the best validation loss.

    :param corpus: ``train`` / ``valid`` melodies (e.g. ``melody_env.data.load_corpus()``).
    :param iterations: maximum gradient steps (paper: 30,000).
    :param batch_size: windows per step (paper: 128).
    :param window: input steps per training window.
    :param learning_rate: Adam learning rate.
    :param clip_norm: gradient norm clip (paper: 5).
    :param l2: L2 penalty on the weights, added to the loss (paper: 2.5e-5), see :func:`l2_penalty`.
    :param skip_steps: leading steps of each window whose loss is not used (paper: 8).
    :param start_fraction: share of windows taken at a melody's first step with every step counted
        (0 = the paper's recipe; see :class:`WindowSampler`).
    :param eval_every: steps between validations (a validation also runs at the last step).
    :param patience: stop after this many validations without a lower validation loss.
    :param max_seconds: stop at the first validation after this much wall time (``None``: no limit).
    :param seed: seeds the initial weights and the window draws.
    :param config: sizes of a new model (default: the paper's); ignored when ``model`` is given.
    :param model: a model to continue training instead of a new one.
    :param checkpoint_path: if given, the best model so far is saved there at each improvement.
    :param progress: show a tqdm progress bar.
    :param label_convention: ``"paper"`` (0 = note off, 1 = hold); ``"original"`` swaps classes 0 and 1 in
        the training and validation melodies, as the original implementation's data did (a compatibility
        switch, :mod:`melody_env.labels`).
    :raises ValueError: for bad arguments, or a corpus whose training or validation split is empty.
    :raises TrainingDivergedError: on a NaN/inf loss or gradient norm; the checkpoint on disk keeps
        the best weights so far.
    """
    for name, value in (
        ("iterations", iterations),
        ("batch_size", batch_size),
        ("window", window),
        ("eval_every", eval_every),
        ("patience", patience),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not 0 <= skip_steps < window:
        raise ValueError(f"skip_steps must be in [0, window={window}), got {skip_steps}")
    _check_split(corpus)
    corpus = relabel_corpus(corpus, label_convention)
    rng = np.random.default_rng(seed)
    sampler = WindowSampler(corpus.train, window, skip_steps, rng, start_fraction)
    valid = validation_windows(corpus.valid, window, skip_steps)
    openings = opening_windows(corpus.valid, window, max(skip_steps, 1))
    if model is None:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = NoteRNN(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    history: list[dict[str, float]] = []
    best = {"loss": math.inf, "step": 0, "accuracy": 0.0, "opening": math.inf, "state": None}
    bad_evals, stopped, running = 0, "iterations", []
    start = time.perf_counter()
    bar = tqdm(range(1, iterations + 1), desc="Note RNN", disable=not progress, dynamic_ncols=True)
    step = 0
    for step in bar:
        model.train()
        inputs, targets, mask = sampler.sample(batch_size)
        logits, _ = model(inputs)  # (B, window, 38)
        loss = masked_cross_entropy(logits, targets, mask) + l2_penalty(model, l2)
        if not torch.isfinite(loss):
            _diverged(step, "loss", loss.item(), best, checkpoint_path)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        if not torch.isfinite(grad_norm):
            _diverged(step, "gradient norm", float(grad_norm), best, checkpoint_path)
        optimizer.step()
        running.append(loss.item())

        if step % eval_every and step != iterations:
            continue
        model.eval()
        val_loss, val_accuracy = evaluate(model, valid)
        opening_loss, opening_accuracy = evaluate(model, openings)
        elapsed = time.perf_counter() - start
        history.append(
            {
                "step": step,
                "seconds": elapsed,
                "train_loss": float(np.mean(running)),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "opening_loss": opening_loss,
                "opening_accuracy": opening_accuracy,
            }
        )
        running = []
        if not math.isfinite(val_loss):
            _diverged(step, "validation loss", val_loss, best, checkpoint_path)
        if val_loss < best["loss"]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best.update(loss=val_loss, step=step, accuracy=val_accuracy, opening=opening_loss, state=state)
            bad_evals = 0
            if checkpoint_path is not None:
                model.save(checkpoint_path, metadata={"step": step, "val_loss": val_loss, "val_accuracy": val_accuracy})
        else:
            bad_evals += 1
        bar.set_postfix(train=f"{history[-1]['train_loss']:.3f}", val=f"{val_loss:.4f}", acc=f"{val_accuracy:.3f}")
        if bad_evals >= patience:
            stopped = "early_stopping"
            break
        if max_seconds is not None and elapsed >= max_seconds:
            stopped = "max_seconds"
            break
    bar.close()
    model.load_state_dict(best["state"])
    return NoteRNNTrainingResult(
        model=model.eval(),
        steps=step,
        seconds=time.perf_counter() - start,
        best_step=best["step"],
        best_val_loss=best["loss"],
        val_accuracy=best["accuracy"],
        log_perplexity=best["loss"],
        opening_loss=best["opening"],
        stopped=stopped,
        history=history,
    )


def _check_split(corpus: MelodyCorpus) -> None:
    """Refuse a corpus with an empty training or validation split, naming the setting that fixes it."""
    n_train, n_valid = len(corpus.train), len(corpus.valid)
    if n_valid and n_train:
        return
    side = "validation" if not n_valid else "training"
    raise ValueError(
        f"the corpus's {side} split is empty ({n_train} training, {n_valid} validation melodies); "
        + (
            "hold out more tunes with valid_fraction (rl-tuner train-note-rnn --valid-fraction 0.3; "
            "Python: load_corpus(..., valid_fraction=0.3))"
            if not n_valid
            else "lower valid_fraction (--valid-fraction)"
        )
        + (" or add tunes (a single tune cannot be split)" if n_train + n_valid <= 1 else "")
    )


def _diverged(step: int, what: str, value: float, best: dict, checkpoint_path: str | os.PathLike | None):
    """Raise :class:`TrainingDivergedError` naming the step and where the last good weights are."""
    if best["state"] is None:
        kept = "no validation had run yet, so no weights were kept"
    elif checkpoint_path is None:
        kept = f"the best weights (step {best['step']}) were not saved: pass checkpoint_path to keep them on disk"
    else:
        kept = f"{Path(checkpoint_path)} keeps the best weights (step {best['step']}, val loss {best['loss']:.4f})"
    raise TrainingDivergedError(
        f"Note RNN training diverged at step {step}: the {what} is {value}; {kept}. "
        f"Lower learning_rate or check the corpus for bad tokens."
    )


__all__ = [
    "MelodyCorpus",
    "NoteRNNTrainingResult",
    "TrainingDivergedError",
    "WindowSampler",
    "evaluate",
    "l2_penalty",
    "masked_cross_entropy",
    "opening_windows",
    "train_note_rnn",
    "validation_windows",
]
