"""Train one tuner on ``MelodyCompose-v0`` and save it: ``rl-tuner train --algorithm q --steps 200000``.

Hyperparameters are the paper's (docs/spec.md §6) unless a flag says otherwise. At the end the tuner composes
``--melodies`` melodies and prints their Table 1 statistics beside the Note RNN's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agents import RLTuner
from agents.networks import ALGORITHMS
from benchmarks.args import parse_dataclass, require
from benchmarks.evaluate import compose_and_score, summarise
from sequence_env.threads import torch_threads


@dataclass
class Args:
    """Settings of one training run (docs/spec.md §6 defaults)."""

    algorithm: str = "q"
    """one of q, psi, g, rl_only"""
    steps: int = 1_000_000
    """environment steps (the paper: 1,000,000)"""
    exploration_fraction: float = 0.5
    """share of --steps over which ε ramps linearly 1.0 → 0.1 (the paper: the first half)"""
    exploration_steps: int = 0
    """a fixed ramp length in env steps instead of --exploration-fraction (0: use the fraction)"""
    exploration: str = "egreedy"
    """egreedy or boltzmann"""
    c: float = 0.5
    """weight c of the music-theory reward, r = log p(a|s) + rMT/c"""
    n_envs: int = 64
    """melodies composed in parallel (one gradient step per 5 env steps still holds)"""
    checkpoint: str = ""
    """Note RNN checkpoint to tune (default: the shipped one)"""
    out: str = "runs/tuner"
    """where the tuner is saved (.zip) and TensorBoard logs go (<out>_tb)"""
    melodies: int = 1_000
    """melodies composed at the end for the summary"""
    seed: int = 0
    """seed of the env, exploration, replay and composing"""
    torch_threads: int = 1
    """torch threads (the nets are tiny; one is fastest)"""
    verbose: int = 1
    """1: SB3 logger tables on stdout"""

    def __post_init__(self) -> None:
        require(self.algorithm in ALGORITHMS, "algorithm", f"one of {', '.join(ALGORITHMS)}", self.algorithm)
        require(self.exploration in ("egreedy", "boltzmann"), "exploration", "egreedy or boltzmann", self.exploration)
        for name in ("steps", "n_envs", "melodies", "torch_threads"):
            require(getattr(self, name) >= 1, name, "a positive integer", getattr(self, name))
        require(self.exploration_steps >= 0, "exploration_steps", "an integer >= 0", self.exploration_steps)
        require(0 < self.exploration_fraction <= 1, "exploration_fraction", "in (0, 1]", self.exploration_fraction)
        require(self.c > 0, "c", "a number > 0", self.c)


def train(args: Args) -> Path:
    """Train, save, and print the summary; return the saved file."""
    tuner = RLTuner(
        args.algorithm,
        "MelodyCompose-v0",
        n_envs=args.n_envs,
        env_kwargs={"c": args.c, **({"checkpoint": args.checkpoint} if args.checkpoint else {})},
        exploration=args.exploration,
        **(
            {"exploration_steps": args.exploration_steps}
            if args.exploration_steps
            else {"exploration_fraction": args.exploration_fraction}
        ),
        seed=args.seed,
        nan_checkpoint_path=f"{args.out}.last_good.zip",
        tensorboard_log=f"{args.out}_tb",
        verbose=args.verbose,
        torch_threads=args.torch_threads,
    )
    tuner.learn(args.steps, tb_log_name=args.algorithm, progress_bar=True)
    path = tuner.save(args.out)
    prior = tuner.networks.reward_rnn
    rows = {
        "note_rnn": summarise(compose_and_score(prior, prior, args.melodies, seed=args.seed)),
        args.algorithm: summarise(compose_and_score(tuner, prior, args.melodies, seed=args.seed)),
    }
    print(f"{'statistic':32s}" + "".join(f"{name:>12s}" for name in rows))
    for key in rows["note_rnn"]:
        print(f"{key:32s}" + "".join(f"{row[key]:12.4f}" for row in rows.values()))
    print(f"saved {path}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rl-tuner train``."""
    args = parse_dataclass(Args, argv, "rl-tuner train", __doc__.splitlines()[0])
    with torch_threads(args.torch_threads):
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
