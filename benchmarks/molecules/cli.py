"""``rl-tuner train --task molecule`` and ``rl-tuner generate --task molecule``: tune the SMILES prior with one
algorithm and save it, or sample molecules from the prior or a saved tuner (SMILES printed, a PNG grid)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import gymnasium as gym
import torch

import molecule_env  # noqa: F401  registers MoleculeCompose-v0
from benchmarks.molecules.sampling import agent_step, sample
from benchmarks.molecules.sweep import ALGORITHMS, make_agent
from molecule_env.scoring.terms import DEFAULT_WEIGHTS, TERM_FNS


def _weights(pairs: Sequence[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in TERM_FNS or not value:
            raise ValueError(f"--weight takes term=value with a term of {tuple(TERM_FNS)}, got {pair!r}")
        out[name] = float(value)
    return out


def train_parser() -> argparse.ArgumentParser:
    """Arguments of ``rl-tuner train --task molecule``."""
    p = argparse.ArgumentParser(prog="rl-tuner train --task molecule", description=__doc__.splitlines()[0])
    p.add_argument("--task", default="molecule", choices=["molecule"])
    p.add_argument("--algorithm", default="q", choices=ALGORITHMS)
    p.add_argument("--steps", type=int, default=20_000, help="environment steps")
    p.add_argument("--c", type=float, default=0.25, help="weight of the prior against the terms")
    p.add_argument("--max-length", type=int, default=48, help="tokens per (fixed-length) episode")
    p.add_argument("--weight", nargs="*", default=[], help=f"term=weight over the defaults {DEFAULT_WEIGHTS}")
    p.add_argument("--checkpoint", default=None, help="a SMILES prior checkpoint (default: the shipped one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/molecule_tuner.zip", help="where the tuner is saved")
    return p


def train_main(argv: Sequence[str] | None = None) -> int:
    """Tune and save; prints the wall time."""
    args = train_parser().parse_args(argv)
    torch.set_num_threads(1)
    kwargs = {"c": args.c, "max_length": args.max_length, "fixed_length": True, "weights": _weights(args.weight)}
    if args.checkpoint:
        kwargs["checkpoint"] = args.checkpoint
    model = make_agent(args.algorithm, gym.make("MoleculeCompose-v0", **kwargs), args.seed)
    start = time.perf_counter()
    model.learn(args.steps)
    path = model.save(args.out)
    print(f"{args.algorithm}: {args.steps:,} steps in {time.perf_counter() - start:.0f} s, saved {path}")
    return 0


def generate_parser() -> argparse.ArgumentParser:
    """Arguments of ``rl-tuner generate --task molecule``."""
    p = argparse.ArgumentParser(prog="rl-tuner generate --task molecule", description=__doc__.splitlines()[0])
    p.add_argument("--task", default="molecule", choices=["molecule"])
    p.add_argument("--n", type=int, default=12, help="molecules")
    p.add_argument("--agent", default=None, help="a tuner saved by rl-tuner train --task molecule (.zip)")
    p.add_argument("--checkpoint", default=None, help="a SMILES prior checkpoint (default: the shipped one)")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", default=None, help="also draw the valid ones into this PNG")
    return p


def generate_main(argv: Sequence[str] | None = None) -> int:
    """Print one SMILES a line (``# invalid`` after those rdkit refuses)."""
    from molecule_env.extras import require
    from molecule_env.scoring.properties import parse

    args = generate_parser().parse_args(argv)
    require("rdkit.Chem")  # before sampling: a missing extra is named at once
    torch.set_num_threads(1)
    policy = None
    if args.agent:
        from agents import KLPPO, RLTuner

        try:
            agent = RLTuner.load(args.agent)
        except (ValueError, KeyError):  # a KLPPO checkpoint (a missing or damaged file fails both, the same way)
            agent = KLPPO.load(args.agent)
        policy = agent_step(agent)
    env = gym.make("MoleculeCompose-v0", **({"checkpoint": args.checkpoint} if args.checkpoint else {}))
    task = env.unwrapped.task
    samples = sample(env.unwrapped.prior, task.vocabulary, args.n, args.max_length, args.seed, policy)
    smiles = task.context.smiles(samples.tokens, [args.max_length - 1] * args.n)
    for s in smiles:
        print(s if s and parse(s) is not None else f"{s or ''}  # invalid")
    if args.png:
        from benchmarks.molecules.figures import molecule_grid

        print(f"# drawn: {molecule_grid([('samples', [s for s in smiles if s])], args.png)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str]) -> int:
    """``argv[0]`` is the command (``train``, ``generate`` or ``sweep``), the rest its arguments."""
    from benchmarks.molecules import sweep
    from molecule_env.extras import MissingExtraError

    commands = {"train": train_main, "generate": generate_main, "sweep": sweep.main}
    if not argv or argv[0] not in commands:
        raise ValueError(f"--task molecule works with the commands {sorted(commands)}")
    try:
        return commands[argv[0]](list(argv[1:]))
    except MissingExtraError as exc:  # one line naming the install, as the command's other errors
        print(f"rl-tuner {argv[0]}: error: {exc}", file=sys.stderr)
        return 2


def task_option(argv: Sequence[str]) -> str | None:
    """The value of ``--task`` in ``argv`` (``--task X`` or ``--task=X``), or ``None``."""
    for i, arg in enumerate(argv):
        if arg == "--task" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--task="):
            return arg.partition("=")[2]
    return None


__all__ = ["generate_main", "generate_parser", "main", "task_option", "train_main", "train_parser"]
