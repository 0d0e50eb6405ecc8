"""The SMILES prior's model card: how it was trained, and the validity and uniqueness of 10,000 samples.

``python -m benchmarks.molecules.card --checkpoint molecule_env/checkpoints/smiles_prior`` writes
``MODEL_CARD.md`` beside the checkpoint from its training summary (``<checkpoint>.summary.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.molecules.evaluate import train_set
from benchmarks.molecules.sampling import sample
from molecule_env.metrics import canonical, novelty
from molecule_env.prior import load_smiles_prior
from molecule_env.scoring.terms import MoleculeContext
from sequence_env.atomic import atomic_write


def sample_statistics(checkpoint: str | Path, n: int, max_length: int, seed: int) -> dict[str, float]:
    """Validity (share of samples rdkit parses), uniqueness (distinct canonical SMILES over valid ones),
    novelty (distinct valid ones not in MOSES train) and mean length of ``n`` samples at temperature 1."""
    prior = load_smiles_prior(checkpoint)
    start = time.perf_counter()
    samples = sample(prior.model, prior.vocabulary, n, max_length, seed)
    smiles = MoleculeContext(prior.encoder).smiles(samples.tokens, [max_length - 1] * n)
    valid = [c for c in (canonical(s) for s in smiles if s) if c is not None]
    return {
        "samples": n,
        "validity": len(valid) / n,
        "uniqueness": len(set(valid)) / max(len(valid), 1),
        "novelty": novelty(valid, set(train_set())),
        "mean_log_prior": float(samples.log_prior.mean()),
        "seconds": time.perf_counter() - start,
        "examples": valid[:8],
    }


def card(checkpoint: Path, stats: dict, summary: dict, command: str) -> str:
    """The card's markdown."""
    prior = load_smiles_prior(checkpoint)
    config = prior.model.config
    examples = "\n".join(f"    {s}" for s in stats["examples"])
    tokens = " ".join(f"`{t}`" for t in prior.vocabulary.tokens)
    return f"""# SMILES prior (molecule_env/checkpoints/smiles_prior)

An LSTM next-token model of SMILES (`sequence_env.lstm.LSTMPrior`: one layer of {config.hidden_size} cells,
{prior.vocabulary.size} tokens: {tokens}), the prior of `MoleculeCompose-v0`.

## Training
- Data: {summary["corpus"]}, a seeded random subsample of the MOSES training split shipped in the molsets
  wheel (MOSES, Polykovskiy et al. 2020); 5,000 of them held out for validation.
- Command: `{summary["command"]}` (one torch thread, seed {summary["seed"]}).
- {summary["steps"]:,} Adam steps of 128 molecules (batch grouped by length), {summary["train_seconds"] / 60:.1f} min
  of training, {summary["total_seconds"] / 60:.1f} min in all (reading and rdkit-checking the data included),
  stopped by the time limit ({summary["stopped"]}); the best validation loss
  {summary["best_val_loss"]:.4f} nats per token (at step {summary["best_step"]:,}; the padding after each end
  token counts as a token).

## Samples
{stats["samples"]:,} molecules sampled at temperature 1 from the begin token (at most 64 tokens), seed 0:
- validity (rdkit parses it): **{stats["validity"]:.4f}**
- uniqueness (distinct canonical SMILES among the valid ones): **{stats["uniqueness"]:.4f}**
- novelty (distinct valid ones not in MOSES train): {stats["novelty"]:.4f}
- mean log p of a sampled molecule: {stats["mean_log_prior"]:.2f} nats

Command: `{command}` ({stats["seconds"]:.0f} s). MOSES's CharRNN, a larger LSTM trained on all of MOSES
train, reaches a validity of 0.9748 and unique@10k of 0.9994 (its README); this prior was trained for a
budget of minutes on one core. A few valid samples:

{examples}
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Sample the checkpoint and write its card."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.molecules.card", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="molecule_env/checkpoints/smiles_prior")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    checkpoint = Path(args.checkpoint)
    summary = json.loads(checkpoint.with_suffix(".summary.json").read_text())
    stats = sample_statistics(checkpoint, args.n, 64, args.seed)
    command = "python -m benchmarks.molecules.card " + " ".join(argv)
    with atomic_write(checkpoint.parent / "MODEL_CARD.md") as tmp:
        tmp.write_text(card(checkpoint, stats, summary, command.strip()))
    print(json.dumps({k: v for k, v in stats.items() if k != "examples"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["card", "main", "sample_statistics"]
