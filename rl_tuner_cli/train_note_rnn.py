"""Train the Note RNN on a corpus and write its checkpoint and a report (docs/spec.md §3).

The shipped checkpoint (melody_env/checkpoints/note_rnn.*) was made with::

    python -m rl_tuner_cli.train_note_rnn --out melody_env/checkpoints/note_rnn \\
        --results benchmarks/results/train_note_rnn.md

(also ``rl-tuner train-note-rnn ...``). Defaults are the paper's hyperparameters except the iteration
budget; see melody_env/checkpoints/MODEL_CARD.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.args import parse_dataclass, require
from benchmarks.provenance import provenance, write_provenance
from melody_env.data import extraction_rules, load_corpus
from melody_env.labels import LABEL_CONVENTIONS
from melody_env.training import NoteRNNTrainingResult, train_note_rnn
from sequence_env.atomic import atomic_write
from sequence_env.threads import torch_threads


@dataclass
class Args:
    """Arguments of the Note RNN training script (paper values from docs/spec.md §3 unless noted)."""

    source: str = "music21"
    """corpus: 'music21' (the folk ABC collections music21 ships) or a folder of MIDI/ABC files"""
    valid_fraction: float = 0.1
    """share of the corpus's tunes held out for validation (at least one tune once there are two)"""
    min_bars: float | None = None
    """shortest melody kept from the corpus, in bars (default: 7 for MIDI files, 2 for ABC tunes)"""
    min_pitches: int | None = None
    """fewest distinct pitches a corpus melody must hold (default: 5)"""
    out: str = "runs/note_rnn/note_rnn"
    """checkpoint name; writes <out>.safetensors and <out>.json (the best validation loss)"""
    results: str = ""
    """Markdown report path (default: <out>.md)"""
    iterations: int = 12_000
    """maximum gradient steps (paper: 30,000; 12,000 fit the 30-minute budget on 2 cores)"""
    batch_size: int = 128
    """windows per gradient step (paper: 128)"""
    window: int = 64
    """input steps per training window cut from a melody"""
    learning_rate: float = 1e-3
    """Adam learning rate"""
    clip_norm: float = 5.0
    """gradient norm clip (paper: 5)"""
    l2: float = 2.5e-5
    """L2 penalty on the weights, added to the loss (paper: 2.5e-5)"""
    skip_steps: int = 8
    """leading steps of each window whose loss is not used (paper: 8)"""
    start_fraction: float = 0.25
    """share of windows taken at a melody's start with every step counted (paper: 0; see MODEL_CARD.md)"""
    labels: str = "paper"
    """data labels: 'paper' (0 = note off, 1 = hold) or 'original' (0 and 1 swapped, as the original's data)"""
    eval_every: int = 500
    """steps between validations"""
    patience: int = 6
    """stop after this many validations without a lower validation loss"""
    max_seconds: float = 1680.0
    """stop at the first validation after this many seconds (0 = no limit)"""
    seed: int = 0
    """seeds the initial weights and the window draws"""
    threads: int = 1
    """torch CPU threads (this small LSTM trains fastest on 1)"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        for name in ("iterations", "batch_size", "eval_every", "patience", "threads"):
            require(getattr(self, name) >= 1, name, "a positive integer", getattr(self, name))
        require(self.window >= 2, "window", "an integer >= 2", self.window)
        require(0 <= self.skip_steps < self.window, "skip_steps", f"in [0, --window={self.window})", self.skip_steps)
        require(0 < self.valid_fraction < 1, "valid_fraction", "in (0, 1)", self.valid_fraction)
        require(0 <= self.start_fraction <= 1, "start_fraction", "in [0, 1]", self.start_fraction)
        require(self.labels in LABEL_CONVENTIONS, "labels", f"one of {', '.join(LABEL_CONVENTIONS)}", self.labels)
        for name in ("learning_rate", "clip_norm"):
            require(getattr(self, name) > 0, name, "a number > 0", getattr(self, name))
        for name in ("l2", "max_seconds"):
            require(getattr(self, name) >= 0, name, "a number >= 0", getattr(self, name))
        require(self.min_bars is None or self.min_bars >= 0, "min_bars", "a number >= 0", self.min_bars)
        pitches = self.min_pitches
        require(pitches is None or pitches >= 1, "min_pitches", "a positive integer", pitches)


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """``Args`` from the command line (``--flag value``; booleans as ``--progress`` / ``--no-progress``)."""
    return parse_dataclass(Args, argv, "rl-tuner train-note-rnn", __doc__.splitlines()[0])


def report(args: Args, result: NoteRNNTrainingResult, summary: dict, command: str) -> str:
    """The Markdown report of one training run."""
    lines = [
        "# Note RNN training",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (torch threads: {args.threads}), "
        f"Python {platform.python_version()}, torch {torch.__version__}.",
        "",
        "| result | value |",
        "|---|---|",
        f"| steps | {result.steps} (stopped by {result.stopped}) |",
        f"| training time | {result.seconds / 60:.1f} min "
        f"({result.seconds / max(result.steps, 1) * 1000:.0f} ms/step, validations included) |",
        f"| best step | {result.best_step} |",
        f"| validation accuracy | {result.val_accuracy:.2%} (paper: 92 % on its own data) |",
        f"| log perplexity (nats) | {result.log_perplexity:.4f} (paper: 0.2536 on its own data) |",
        f"| opening loss (nats, first {max(args.skip_steps, 1)} steps of each melody) | {result.opening_loss:.4f} |",
        "",
        "Corpus: " + ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("cache", "cache_hit")),
        "",
        "Arguments: " + ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(args).items()),
        "",
        "| step | minutes | train loss | val loss | val accuracy | opening loss | opening accuracy |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {h['step']} | {h['seconds'] / 60:.1f} | {h['train_loss']:.4f} | {h['val_loss']:.4f} "
        f"| {h['val_accuracy']:.2%} | {h['opening_loss']:.4f} | {h['opening_accuracy']:.2%} |"
        for h in result.history
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Train, save the best checkpoint with its metadata, write the report."""
    args = parse_args(argv)
    command = "python -m rl_tuner_cli.train_note_rnn " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    started, t0 = time.time(), time.perf_counter()
    rules = extraction_rules(args.min_bars, args.min_pitches)
    corpus = load_corpus(args.source, valid_fraction=args.valid_fraction, **rules)
    summary = {k: v for k, v in corpus.summary.items() if k not in ("cache", "cache_hit")}
    print(
        f"corpus: {len(corpus.train)} training, {len(corpus.valid)} validation melodies "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    with torch_threads(args.threads):
        result = train_note_rnn(
            corpus,
            iterations=args.iterations,
            batch_size=args.batch_size,
            window=args.window,
            learning_rate=args.learning_rate,
            clip_norm=args.clip_norm,
            l2=args.l2,
            skip_steps=args.skip_steps,
            start_fraction=args.start_fraction,
            eval_every=args.eval_every,
            patience=args.patience,
            max_seconds=args.max_seconds or None,
            seed=args.seed,
            checkpoint_path=args.out,
            progress=args.progress,
            label_convention=args.labels,
        )
    metadata = {
        "command": command,
        "args": dataclasses.asdict(args),
        "corpus": summary,
        "steps": result.steps,
        "best_step": result.best_step,
        "seconds": round(result.seconds, 1),
        "val_accuracy": result.val_accuracy,
        "log_perplexity": result.log_perplexity,
        "opening_loss": result.opening_loss,
        "stopped": result.stopped,
    }
    json_path = result.model.save(args.out, metadata=json.loads(json.dumps(metadata, default=str)))
    results = Path(args.results or f"{args.out}.md")
    results.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(results) as tmp:
        tmp.write_text(report(args, result, summary, command), encoding="utf-8")
    write_provenance(results, provenance(command, started, time.perf_counter() - t0))
    print(
        f"best step {result.best_step}/{result.steps}: val accuracy {result.val_accuracy:.2%}, "
        f"log perplexity {result.log_perplexity:.4f}; wrote {json_path} and {results}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
