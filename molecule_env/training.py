"""Training the SMILES prior: the generic LSTM (``sequence_env.lstm``) as a next-token model of a SMILES corpus.

Each molecule is encoded as ``[begin, tokens..., end, pad]`` (:mod:`molecule_env.tokens`). The loss is
the mean cross-entropy of every next token, the end token and the padding after it included (batches
are grouped by length, so the padding is a small share): the prior learns that padding follows the end,
so an episode of fixed length (the molecule task's ``fixed_length``, which the rollouts of KL-PPO and
RLOO need) pays almost nothing under the prior after its molecule ends. Adam, the gradient norm clipped
at 5. Batches are drawn at random and grouped by length (a pool of ``batch_size · pool_batches``
molecules sorted by length, cut into batches, shuffled). A fixed held-out slice of the corpus gives the
validation loss; the best weights so far are saved atomically at each improvement, and a NaN or
infinite loss stops training with that checkpoint kept.

The command: ``python -m molecule_env.training`` (also ``rl-tuner train-smiles-prior``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from molecule_env.tokens import SmilesEncoder, corpus_tokens, smiles_vocabulary
from sequence_env.atomic import atomic_write
from sequence_env.lstm import LSTMConfig, LSTMPrior


class TrainingDivergedError(FloatingPointError):
    """The loss or the gradient norm became NaN or infinite; the message says where the last good weights are."""


@dataclass
class PriorTrainingResult:
    """What :func:`train_smiles_prior` returns: the best model (eval mode) and how training went."""

    model: LSTMPrior
    tokens: tuple[str, ...]
    steps: int
    seconds: float
    best_step: int
    best_val_loss: float
    stopped: str
    history: list[dict[str, float]] = field(default_factory=list)


def encode_corpus(smiles: Sequence[str], encoder: SmilesEncoder) -> tuple[np.ndarray, np.ndarray]:
    """All molecules as one ``(n, longest + 1)`` uint8 array padded with the pad id (at least one padding after
    each end token), and their lengths."""
    if encoder.vocabulary.size > 256:
        raise ValueError(f"a SMILES vocabulary of {encoder.vocabulary.size} tokens does not fit the uint8 corpus")
    encoded = [encoder.encode(s) for s in smiles]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    out = np.full((len(encoded), int(lengths.max(initial=2)) + 1), encoder.vocabulary.pad, dtype=np.uint8)
    for i, e in enumerate(encoded):
        out[i, : len(e)] = e
    return out, lengths


def sequence_loss(model: LSTMPrior, batch: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy (nats) of ``batch (B, T)`` over every target, the padding after the end
    token included (the prior learns that padding follows the end, and padding); the count."""
    logits, _ = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
    return loss, batch[:, 1:].numel()


class LengthBatches:
    """Random batches grouped by length: a pool of ``batch_size · pool_batches`` rows sorted by length, cut.

    :param data: ``(n, T)`` padded molecules. :param lengths: their lengths. :param rng: numpy generator.
    """

    def __init__(self, data: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool=50):
        self.data, self.lengths, self.batch_size, self.rng, self.pool = data, lengths, batch_size, rng, pool
        self._queue: list[np.ndarray] = []

    def next(self) -> torch.Tensor:
        """One ``(batch_size, longest in batch)`` int64 tensor."""
        if not self._queue:
            rows = self.rng.choice(len(self.data), size=min(self.batch_size * self.pool, len(self.data)), replace=False)
            rows = rows[np.argsort(self.lengths[rows], kind="stable")]
            self._queue = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
            self.rng.shuffle(self._queue)
        rows = self._queue.pop()
        return torch.from_numpy(self.data[rows, : int(self.lengths[rows].max()) + 1].astype(np.int64))


@torch.no_grad()
def validation_loss(model: LSTMPrior, data: np.ndarray, lengths: np.ndarray, batch_size: int = 512) -> float:
    """Mean next-token cross-entropy (nats per token) of held-out molecules."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(data), batch_size):
        rows = slice(i, i + batch_size)
        loss, n = sequence_loss(model, torch.from_numpy(data[rows, : int(lengths[rows].max()) + 1].astype(np.int64)))
        total += float(loss) * n
        count += n
    return total / max(count, 1)


def train_smiles_prior(
    smiles: Sequence[str],
    *,
    hidden_size: int = 256,
    num_layers: int = 1,
    batch_size: int = 128,
    learning_rate: float = 2e-3,
    clip_norm: float = 5.0,
    iterations: int = 100_000,
    max_seconds: float | None = None,
    eval_every: int = 500,
    valid_size: int = 5000,
    seed: int = 0,
    tokens: Sequence[str] | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    metadata: dict | None = None,
    log_path: str | os.PathLike | None = None,
    progress: bool = True,
) -> PriorTrainingResult:
    """Train an :class:`~sequence_env.lstm.LSTMPrior` on SMILES (module docs); the best validation weights.

    :param smiles: the corpus (parsed already, e.g. :func:`molecule_env.data.load_smiles`).
    :param tokens: the vocabulary's tokens (``None``: the corpus's own, most frequent first).
    :param valid_size: molecules held out (the last ones of a seeded shuffle) for validation.
    :param max_seconds: stop at the first validation after this much wall time.
    :param checkpoint_path: the best model so far is saved there (atomic), with ``metadata``.
    :param log_path: one JSON line per validation is appended there.
    :raises TrainingDivergedError: NaN/inf loss or gradient; the checkpoint keeps the best weights so far.
    """
    if len(smiles) <= valid_size:
        raise ValueError(f"the corpus has {len(smiles)} SMILES, not more than valid_size={valid_size}; lower it")
    vocabulary = smiles_vocabulary(tuple(tokens) if tokens is not None else corpus_tokens(smiles))
    encoder = SmilesEncoder(vocabulary)
    data, lengths = encode_corpus(smiles, encoder)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    valid_rows, train_rows = order[-valid_size:], order[:-valid_size]
    batches = LengthBatches(data[train_rows], lengths[train_rows], batch_size, rng)
    valid, valid_lengths = data[valid_rows], lengths[valid_rows]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LSTMPrior(LSTMConfig(vocabulary.size, hidden_size, num_layers))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    meta = {"tokens": list(vocabulary.tokens), **(metadata or {})}
    history: list[dict[str, float]] = []
    best = {"loss": math.inf, "step": 0, "state": None}
    stopped, running, step = "iterations", [], 0
    start = time.perf_counter()
    bar = tqdm(range(1, iterations + 1), desc="SMILES prior", disable=not progress, dynamic_ncols=True, mininterval=5)
    for step in bar:
        model.train()
        loss, _ = sequence_loss(model, batches.next())
        if not torch.isfinite(loss):
            _diverged(step, "loss", loss.item(), best, checkpoint_path)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        if not torch.isfinite(grad_norm):
            _diverged(step, "gradient norm", float(grad_norm), best, checkpoint_path)
        optimizer.step()
        running.append(loss.item())
        elapsed = time.perf_counter() - start
        out_of_time = max_seconds is not None and elapsed >= max_seconds
        if step % eval_every and step != iterations and not out_of_time:
            continue
        val = validation_loss(model, valid, valid_lengths)
        row = {"step": step, "seconds": elapsed, "train_loss": float(np.mean(running)), "val_loss": val}
        history.append(row)
        running = []
        if log_path is not None:
            with open(log_path, "a") as log:
                log.write(json.dumps(row) + "\n")
        if not math.isfinite(val):
            _diverged(step, "validation loss", val, best, checkpoint_path)
        if val < best["loss"]:
            best.update(loss=val, step=step, state={k: v.detach().clone() for k, v in model.state_dict().items()})
            if checkpoint_path is not None:
                model.save(checkpoint_path, metadata={**meta, "step": step, "val_loss": val, "seconds": elapsed})
        bar.set_postfix(train=f"{row['train_loss']:.3f}", val=f"{val:.4f}")
        if out_of_time:
            stopped = "max_seconds"
            break
    bar.close()
    model.load_state_dict(best["state"])
    return PriorTrainingResult(
        model.eval(), vocabulary.tokens, step, time.perf_counter() - start, best["step"], best["loss"], stopped, history
    )


def _diverged(step: int, what: str, value: float, best: dict, checkpoint_path: str | os.PathLike | None) -> None:
    if best["state"] is None:
        kept = "no validation had run yet, so no weights were kept"
    elif checkpoint_path is None:
        kept = f"the best weights (step {best['step']}) were not saved: pass a checkpoint path to keep them"
    else:
        kept = f"{checkpoint_path} keeps the best weights (step {best['step']}, val loss {best['loss']:.4f})"
    raise TrainingDivergedError(f"SMILES prior training diverged at step {step}: the {what} is {value}; {kept}")


class _OneLineParser(argparse.ArgumentParser):
    """Argument mistakes as one line, ``<prog>: error: <problem>; see <prog> --help``, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m molecule_env.training`` / ``rl-tuner train-smiles-prior``."""
    p = _OneLineParser(
        prog="rl-tuner train-smiles-prior",
        description="Train the SMILES prior (an LSTM next-token model) on MOSES train or a file of SMILES.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--corpus", default="moses:train", help="moses:train, or a file of SMILES (one a line, or CSV)")
    p.add_argument("--limit", type=int, default=None, help="train on a random subsample of this many SMILES")
    p.add_argument("--out", default="runs/smiles_prior/smiles_prior", help="checkpoint path (.json/.safetensors)")
    p.add_argument("--hidden-size", type=int, default=256, help="LSTM cells")
    p.add_argument("--num-layers", type=int, default=1, help="LSTM layers")
    p.add_argument("--batch-size", type=int, default=128, help="molecules per step")
    p.add_argument("--learning-rate", type=float, default=2e-3, help="Adam step size")
    p.add_argument("--iterations", type=int, default=100_000, help="gradient steps at most")
    p.add_argument("--max-minutes", type=float, default=25.0, help="stop training after this long")
    p.add_argument("--eval-every", type=int, default=500, help="steps between validations")
    p.add_argument("--valid-size", type=int, default=5000, help="molecules held out for validation")
    p.add_argument("--seed", type=int, default=0, help="seeds the weights, the subsample and the batches")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Train and save a SMILES prior; one line and exit 2 on bad input."""
    from molecule_env.data import load_smiles
    from molecule_env.extras import MissingExtraError

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        corpus = load_smiles(args.corpus, limit=args.limit, seed=args.seed)
    except (MissingExtraError, FileNotFoundError, ValueError) as exc:
        print(f"rl-tuner train-smiles-prior: error: {exc}", file=sys.stderr)
        return 2
    print(corpus.summary(), flush=True)
    command = "python -m molecule_env.training " + " ".join(sys.argv[1:] if argv is None else argv)
    meta = {"corpus": corpus.summary(), "command": command.strip(), "seed": args.seed, "threads": args.threads}
    try:
        result = train_smiles_prior(
            corpus.smiles,
            hidden_size=args.hidden_size,
            num_layers=args.num_layers,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            iterations=args.iterations,
            max_seconds=args.max_minutes * 60,
            eval_every=args.eval_every,
            valid_size=args.valid_size,
            seed=args.seed,
            checkpoint_path=out,
            metadata=meta,
            log_path=out.with_suffix(".log.jsonl"),
            progress=not args.no_progress,
        )
    except (TrainingDivergedError, ValueError) as exc:
        print(f"rl-tuner train-smiles-prior: error: {exc}", file=sys.stderr)
        return 2
    summary = {
        "steps": result.steps,
        "best_step": result.best_step,
        "best_val_loss": result.best_val_loss,
        "train_seconds": result.seconds,
        "total_seconds": time.perf_counter() - started,
        "stopped": result.stopped,
        **meta,
    }
    with atomic_write(out.with_suffix(".summary.json")) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = [
    "LengthBatches",
    "PriorTrainingResult",
    "TrainingDivergedError",
    "build_parser",
    "encode_corpus",
    "main",
    "sequence_loss",
    "train_smiles_prior",
    "validation_loss",
]
