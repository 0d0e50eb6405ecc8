"""``rl-tuner sweep --task molecule``: every algorithm tunes the SMILES prior for each seed, and each run is
judged by MOSES's metrics, the reward terms, log p and KL (one process, runs in sequence, resumable).

Each run writes ``<out>/runs/<algorithm>_seed<k>.json`` (atomic) and is skipped when that file exists;
the prior's row is ``<out>/runs/prior.json``. The table (:mod:`benchmarks.molecules.report`) is written
at the end from whatever runs exist.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

import molecule_env  # noqa: F401  registers MoleculeCompose-v0
from benchmarks.molecules.evaluate import evaluate, molecules, test_reference, train_set
from benchmarks.molecules.sampling import agent_step, sample
from benchmarks.provenance import provenance, write_provenance
from molecule_env.scoring.terms import DEFAULT_WEIGHTS
from sequence_env.atomic import atomic_write

ALGORITHMS = ("q", "psi", "g", "rl_only", "kl_ppo", "rloo")


def make_agent(algorithm: str, env: Any, seed: int) -> Any:
    """The tuner of ``algorithm`` on ``env``: RLTuner or KLPPO with their defaults, except that RLTuner explores
    by sampling its policy (Boltzmann) rather than ε-greedy: a random token almost always breaks a SMILES.

    RLTuner keeps the paper's γ = 0.5 although the terms come only at a molecule's end: with γ = 1 the Q
    and Ψ policies left the prior entirely within 100,000 steps (no valid molecule of 2,000, KL 70-170
    nats per molecule, seeds 0 and 2 of Q and seed 0 of Ψ); a likely cause is that the networks start
    from the prior's logits, whose per-state offset (their log-sum-exp) γ = 1 lets add up along the molecule.
    """
    from agents import KLPPO, RLTuner

    if algorithm in ("kl_ppo", "rloo"):
        return KLPPO("PriorPolicy", env, algorithm="ppo" if algorithm == "kl_ppo" else "rloo", seed=seed)
    return RLTuner(algorithm, env, seed=seed, exploration="boltzmann")


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The task of every run: fixed-length episodes (KL-PPO and RLOO need them), the given c and length."""
    kwargs: dict[str, Any] = {"c": args.c, "max_length": args.max_length, "fixed_length": True}
    if args.checkpoint:
        kwargs["checkpoint"] = args.checkpoint
    return kwargs


def _write(path: Path, data: dict) -> None:
    """``data`` as JSON, a NaN (a metric of no valid molecule) as ``null``."""
    clean = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in data.items()}
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(clean, indent=2) + "\n")


def prior_row(args: argparse.Namespace, env: Any) -> dict[str, Any]:
    """The prior's samples judged like a run's (unique@10k included)."""
    task = env.unwrapped.task
    start = time.perf_counter()
    samples = sample(env.unwrapped.prior, task.vocabulary, args.prior_samples, args.max_length, seed=12345)
    row = evaluate(samples, task.context, DEFAULT_WEIGHTS, test_reference(args.reference_size), train_set())
    smiles = [s for s in molecules(samples, task.context) if s][:48]
    return {"algorithm": "prior", "seed": None, "eval_seconds": time.perf_counter() - start, **row, "smiles": smiles}


def run_one(args: argparse.Namespace, algorithm: str, seed: int) -> dict[str, Any]:
    """Train ``algorithm`` for ``args.steps`` env steps with ``seed``, then sample and judge ``args.samples``."""
    env = gym.make("MoleculeCompose-v0", **env_kwargs(args))
    task = env.unwrapped.task
    model = make_agent(algorithm, env, seed)
    start = time.perf_counter()
    model.learn(args.steps)
    train_seconds = time.perf_counter() - start
    policy = agent_step(model)
    samples = sample(env.unwrapped.prior, task.vocabulary, args.samples, args.max_length, 10_000 + seed, policy)
    reference = test_reference(args.reference_size)
    row = evaluate(samples, task.context, DEFAULT_WEIGHTS, reference, train_set(), ks=(1000,))
    smiles = [s for s in molecules(samples, task.context) if s][:48]
    return {
        "algorithm": algorithm,
        "seed": seed,
        "steps": args.steps,
        "train_seconds": train_seconds,
        "eval_seconds": time.perf_counter() - start - train_seconds,
        **row,
        "smiles": smiles,
    }


def sweep_provenance(args: argparse.Namespace, argv: Sequence[str], started: float, seconds: float) -> dict[str, Any]:
    """The folder's provenance (:func:`benchmarks.provenance.provenance`: commit, dirty flag, packages, command,
    machine, start, wall time) with the sweep's settings and its torch thread count."""
    record = provenance("rl-tuner sweep " + shlex.join(argv), started, seconds)
    return {**record, "torch_threads": torch.get_num_threads(),
            "settings": {k: v for k, v in vars(args).items() if k != "task"}}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``rl-tuner sweep --task molecule``."""
    p = argparse.ArgumentParser(prog="rl-tuner sweep --task molecule", description=__doc__.splitlines()[0])
    p.add_argument("--task", default="molecule", choices=["molecule"])
    p.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS)
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1 per algorithm")
    p.add_argument("--steps", type=int, default=20_000, help="environment steps per run")
    p.add_argument("--samples", type=int, default=2_000, help="molecules sampled per run")
    p.add_argument("--prior-samples", type=int, default=10_000, help="molecules sampled from the prior")
    p.add_argument("--reference-size", type=int, default=10_000, help="MOSES test molecules for SNN/Frag/Scaf/FCD")
    p.add_argument("--c", type=float, default=0.25, help="weight of the prior against the terms")
    p.add_argument("--max-length", type=int, default=48, help="tokens per (fixed-length) episode")
    p.add_argument("--checkpoint", default=None, help="a SMILES prior checkpoint (default: the shipped one)")
    p.add_argument("--out", default="runs/molecules", help="output folder")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the missing runs, then write the table."""
    from benchmarks.molecules.report import write_report

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    started, start = time.time(), time.perf_counter()
    prior_path = out / "runs" / "prior.json"
    if not prior_path.exists():
        _write(prior_path, prior_row(args, gym.make("MoleculeCompose-v0", **env_kwargs(args))))
        print(f"prior: {prior_path}", flush=True)
    for algorithm in args.algorithms:
        for seed in range(args.seeds):
            path = out / "runs" / f"{algorithm}_seed{seed}.json"
            if path.exists():
                continue
            result = run_one(args, algorithm, seed)
            _write(path, result)
            print(f"{algorithm} seed {seed}: reward {result['reward_terms']:.3f}, valid {result['valid']:.3f}, "
                  f"KL {result['kl_to_prior']:.2f}, {result['train_seconds']:.0f} s", flush=True)  # fmt: skip
    record = sweep_provenance(args, argv, started, time.perf_counter() - start)
    write_report(out, record)
    write_provenance(out, record)
    print(f"table: {out / 'table.md'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["ALGORITHMS", "build_parser", "env_kwargs", "main", "make_agent", "prior_row", "run_one"]
