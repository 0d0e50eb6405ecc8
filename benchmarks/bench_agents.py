"""Speed and a short result of the agents; writes results/agents.md.

1. Throughput (issue 6): Q-learning at SPEC §6 settings (batch 32, one gradient step per 5 environment
   steps, replay 100,000, Adam 1e-3, clip 5, soft update η = 0.01 after every gradient step) on the
   batched env, environment steps per second *including* the gradient steps; target >= 2,000 on 2
   cores. In the same run, SB3's DQN (``MultiInputPolicy``) on the same env through
   ``MelodySB3VecEnv``, the same budget and the same ratio (``train_freq`` 1 vector step,
   ``gradient_steps`` = N / 5, batch 32), and the ratio of the two.
2. A short Q run from the shipped Note RNN: mean rMT per note and Table 1 statistics of melodies
   sampled from the Note RNN and from the tuned policy (softmax of Q at temperature 1, SPEC §7).

    python -m benchmarks.bench_agents                              # full run
    python -m benchmarks.bench_agents --speed-steps 4000 --short-steps 2000 --out /tmp/agents.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from agents import RLTuner
from melody_env.note_rnn import load_default_note_rnn
from melody_env.sb3_vec_env import MelodySB3VecEnv
from reward_rules import RuleEvaluator, table1_stats


@dataclass
class Args:
    num_envs: int = 80
    """Melodies in parallel N (N / 5 = 16 gradient steps per vector step, exact for SB3's DQN too)."""
    speed_steps: int = 240_000
    """Environment steps timed for each of RLTuner and SB3 DQN (after a warm-up of 20 vector steps)."""
    short_steps: int = 200_000
    """Environment steps of the short Q run."""
    early_eval_steps: int = 50_000
    """The short run's melodies are also evaluated after this many steps (0: not)."""
    short_exploration_steps: int = 100_000
    """ε ramp 1.0 → 0.1 of the short run (SPEC §6's 500,000 would leave ε ≈ 0.6 after 200,000 steps)."""
    eval_melodies: int = 2_000
    """Melodies sampled from each model for the statistics."""
    repeats: int = 3
    """Interleaved timed chunks per agent; the best is reported (the machine is shared)."""
    threads: int = 1
    """torch.set_num_threads for the run (tiny nets are fastest single-threaded)."""
    seed: int = 0
    """Seed of the agents, envs and samples."""
    skip_dqn: bool = False
    """Do not time SB3's DQN."""
    out: Path = Path(__file__).parent / "results" / "agents.md"
    """Markdown report written here."""


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """Build ``Args`` from the command line (one option per field)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Args()
    for f in fields(Args):
        value = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", help=f.name)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    return Args(**vars(parser.parse_args(argv)))


def build_tuner(args: Args) -> RLTuner:
    """RLTuner Q-learning at SPEC §6 settings on N melodies, warmed up (a batch in the replay, first steps)."""
    agent = RLTuner("q", "MelodyCompose-v0", n_envs=args.num_envs, seed=args.seed)
    agent.learn(20 * args.num_envs)
    return agent


def build_dqn(args: Args) -> BaseAlgorithm:
    """SB3 DQN on the same env, budget and ratio (N / 5 gradient steps of 32 per vector step), warmed up."""
    from stable_baselines3 import DQN

    env = MelodySB3VecEnv(num_envs=args.num_envs, reward_mode="full")
    model = DQN(
        "MultiInputPolicy", env, learning_rate=1e-3, buffer_size=100_000, learning_starts=32, batch_size=32,
        tau=0.01, gamma=0.5, train_freq=1, gradient_steps=max(1, args.num_envs // 5), target_update_interval=1,
        exploration_fraction=min(1.0, 500_000 / args.speed_steps), exploration_final_eps=0.1, max_grad_norm=5.0,
        seed=args.seed, device="cpu",
    )  # fmt: skip
    model.learn(20 * args.num_envs)
    return model


def throughput(args: Args) -> dict[str, float]:
    """Env steps/s including gradient steps: best of ``repeats`` interleaved chunks of ``speed_steps / repeats``."""
    models = {"RLTuner Q (SPEC §6)": build_tuner(args)}
    if not args.skip_dqn:
        models["SB3 DQN MultiInputPolicy"] = build_dqn(args)
    chunk = args.speed_steps // args.repeats
    best = dict.fromkeys(models, 0.0)
    for _ in range(args.repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.learn(chunk, reset_num_timesteps=False)
            best[name] = max(best[name], chunk / (time.perf_counter() - start))
    return best


def mean_rmt(melodies: np.ndarray) -> float:
    """Mean rMT per note of (N, 32) melodies (the rules of SPEC §4, note by note)."""
    evaluator = RuleEvaluator(len(melodies), melodies.shape[1])
    total = np.zeros(len(melodies))
    for t in range(melodies.shape[1]):
        total += evaluator.step(melodies[:, t]).sum(axis=1)
    return float(total.mean() / melodies.shape[1])


def short_run(args: Args) -> tuple[dict[str, dict[str, float]], float]:
    """Train Q for ``short_steps``; statistics of the Note RNN's and the tuned policy's melodies."""
    agent = RLTuner(
        "q", "MelodyCompose-v0", n_envs=args.num_envs, seed=args.seed, exploration_steps=args.short_exploration_steps
    )
    generator = torch.Generator().manual_seed(args.seed)
    note_rnn = load_default_note_rnn().sample(args.eval_melodies, 32, generator=generator).numpy()
    samples = {"Note RNN": note_rnn}
    start = time.perf_counter()
    for steps in sorted({args.early_eval_steps, args.short_steps} - {0}):
        agent.learn(steps - agent.num_timesteps, reset_num_timesteps=False)
        samples[f"Q, {steps:,} steps"] = agent.generate(args.eval_melodies, temperature=1.0, seed=args.seed)
    elapsed = time.perf_counter() - start
    rows = {name: {"mean rMT per note": mean_rmt(m), **table1_stats(m)} for name, m in samples.items()}
    return rows, elapsed


def report(args: Args, argv: Sequence[str]) -> str:
    """Run everything and return the Markdown report."""
    torch.set_num_threads(args.threads)
    speeds = throughput(args)
    rows, elapsed = short_run(args)
    lines = [
        "# Agents: throughput and a short Q run",
        "",
        f"Command: `{shlex.join(['python', '-m', 'benchmarks.bench_agents', *argv])}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'}), "
        f"torch {torch.__version__}, {args.threads} thread(s); shared with other jobs, so numbers are noisy.",
        "",
        f"## Throughput (N = {args.num_envs} melodies, best of {args.repeats} interleaved chunks of "
        f"{args.speed_steps // args.repeats:,} environment steps each)",
        "",
        "Both: batch 32, one gradient step per 5 environment steps (N / 5 per vector step), replay 100,000,",
        "Adam 1e-3, clip 5, γ = 0.5, soft target update η = 0.01 (RLTuner after every gradient step; SB3 DQN",
        "once per vector step, its finest setting).",
        "",
        "| agent | env steps/s incl. gradient steps |",
        "|---|---|",
        *(f"| {name} | {value:,.0f} |" for name, value in speeds.items()),
    ]
    ours = next(iter(speeds.values()))
    lines += ["", f"1,000,000 steps take {1e6 / ours / 60:.1f} min with RLTuner (target ≤ 9 min, ≥ 2,000 steps/s)."]
    if len(speeds) == 2:
        lines[-1] += f" Ratio RLTuner / SB3 DQN: **{ours / list(speeds.values())[1]:.2f}×**."
    keys = list(next(iter(rows.values())))
    lines += [
        "",
        f"## Short run: Q from the shipped Note RNN, {args.short_steps:,} steps ({elapsed:.0f} s), "
        f"ε 1.0 → 0.1 over {args.short_exploration_steps:,} steps, other settings SPEC §6",
        "",
        f"{args.eval_melodies:,} melodies of 32 notes each, sampled at temperature 1 (SPEC §7).",
        "",
        "| statistic | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
        *(f"| {key} | " + " | ".join(f"{row[key]:.3f}" for row in rows.values()) + " |" for key in keys),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: ``python -m benchmarks.bench_agents [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    text = report(args, argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
