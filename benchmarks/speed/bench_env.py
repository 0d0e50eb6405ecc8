"""Speed of ``MelodyCompose-v0``: single env, batched vector env, and the Reward RNN floor; writes runs/env.md
(``rl-tuner speed`` reports the same measures in benchmarks/results/speed.md).

Targets: single env >= 5,000 steps/s; vector env with N = 256 >= 100,000 melody-steps/s on
2 cores; and the vector step beside a bare batched Reward RNN step of the same N (the floor: the
env's own ``FrozenLSTM.step``, log-softmax included), with their ratio. Random actions; resets
and autoresets included.

    python -m benchmarks.speed.bench_env                      # full run
    python -m benchmarks.speed.bench_env --single-steps 2000 --vector-steps 64 --out /tmp/env.md
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from benchmarks.args import parse_dataclass
from benchmarks.timing import best_time, command, machine, write_report
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import DEFAULT_CHECKPOINT, NoteRNN
from melody_env.vector import MelodyComposeVectorEnv
from reward_rules import RuleEvaluator
from sequence_env.envs.frozen import FrozenLSTM


@dataclass
class Args:
    single_steps: int = 20_000
    """Steps timed on the single env (resets included)."""
    num_envs: int = 256
    """Rows N of the vector env and of the floor."""
    vector_steps: int = 660
    """Vector steps timed (each plays N notes; 1 in 33 is an autoreset step)."""
    threads: int = 1
    """torch.set_num_threads for the run (tiny nets are fastest single-threaded)."""
    repeats: int = 3
    """Timed repetitions; the best is reported (the machine is shared)."""
    seed: int = 0
    """Seed of the actions and of the envs."""
    checkpoint: str = ""
    """Reward RNN checkpoint; empty: the shipped one, or a random Note RNN if it is not built yet."""
    out: str = "runs/env.md"
    """Markdown report written here."""


def reward_rnn(checkpoint: str = "", seed: int = 0) -> tuple[NoteRNN, str]:
    """The Reward RNN to time with, and how it was obtained.

    :param checkpoint: a Note RNN checkpoint; empty: the shipped one, else a random Note RNN of the same shapes.
    :param seed: seed of the random Note RNN.
    """
    if checkpoint:
        return NoteRNN.load(checkpoint), checkpoint
    if DEFAULT_CHECKPOINT.with_suffix(".json").exists():
        return NoteRNN.load(DEFAULT_CHECKPOINT), "shipped checkpoint"
    torch.manual_seed(seed)
    return NoteRNN().eval(), "random Note RNN (shipped checkpoint not built yet; same shapes)"


def bench_single(env: gym.Env, steps: int, repeats: int, seed: int = 0) -> float:
    """Steps per second of one env, random actions, reset at each episode end (best of ``repeats``)."""
    actions = np.random.default_rng(seed).integers(0, 38, steps).tolist()
    env.reset(seed=seed)

    def run() -> None:
        for action in actions:
            if env.step(action)[2]:
                env.reset()

    return steps / best_time(run, repeats)


def bench_vector(env: MelodyComposeVectorEnv, steps: int, repeats: int, seed: int = 0) -> float:
    """Vector steps per second (multiply by N for melody-steps), random actions, autoresets included."""
    actions = np.random.default_rng(seed).integers(0, 38, (steps, env.num_envs))
    env.reset(seed=seed)

    def run() -> None:
        for act in actions:
            env.step(act)

    return steps / best_time(run, repeats)


def bench_floor(rnn: NoteRNN, num_envs: int, steps: int, repeats: int, seed: int = 0) -> float:
    """Steps per second of the bare batched Reward RNN step of ``num_envs`` rows, the one the env runs
    (:class:`FrozenLSTM`, log-softmax included): the floor under a vector env step."""
    notes = np.random.default_rng(seed).integers(0, 38, (steps, num_envs))
    frozen = FrozenLSTM(rnn)

    def run() -> None:
        state = frozen.initial_state(num_envs)
        for x in notes:
            _, state = frozen.step(x, state)

    return steps / best_time(run, repeats)


def bench_rules(n: int, steps: int, repeats: int, seed: int = 0) -> float:
    """Steps per second of ``RuleEvaluator.step`` with ``n`` rows (resets included)."""
    evaluator = RuleEvaluator(n)
    actions = np.random.default_rng(seed).integers(0, 38, (steps, n))

    def run() -> None:
        for t, act in enumerate(actions):
            if t % 32 == 0:
                evaluator.reset()
            evaluator.step(act)

    return steps / best_time(run, repeats)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.speed.bench_env [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "python -m benchmarks.speed.bench_env", __doc__.splitlines()[0])
    torch.set_num_threads(args.threads)
    rnn, source = reward_rnn(args.checkpoint, args.seed)
    n, repeats, seed = args.num_envs, args.repeats, args.seed
    single_made = bench_single(gym.make("MelodyCompose-v0", checkpoint=rnn), args.single_steps, repeats, seed)
    single_raw = bench_single(MelodyComposeEnv(checkpoint=rnn), args.single_steps, repeats, seed)
    rules_1 = bench_rules(1, min(args.single_steps, 5_000), repeats, seed)
    vector = bench_vector(MelodyComposeVectorEnv(num_envs=n, checkpoint=rnn), args.vector_steps, repeats, seed)
    floor = bench_floor(rnn, n, args.vector_steps, repeats, seed)
    rules_n = bench_rules(n, args.vector_steps, repeats, seed)
    lines = [
        "# MelodyCompose-v0 benchmark",
        "",
        f"Command: `{command('benchmarks.speed.bench_env', argv)}`",
        "",
        f"Machine: {machine()}; shared with other jobs, so timings are noisy. Reward RNN: {source}. "
        f"Best of {repeats} runs; random actions.",
        "",
        "## Single env (target >= 5,000 steps/s)",
        "",
        "| env | steps/s | µs/step |",
        "|---|---|---|",
        f'| `gym.make("MelodyCompose-v0")` (checker + order wrappers) | {single_made:,.0f} | {1e6 / single_made:.0f} |',
        f"| `MelodyComposeEnv` (unwrapped) | {single_raw:,.0f} | {1e6 / single_raw:.0f} |",
        f"| of which `RuleEvaluator.step`, N = 1 | {rules_1:,.0f} | {1e6 / rules_1:.0f} |",
        "",
        f"## Vector env, N = {n} (target >= 100,000 melody-steps/s)",
        "",
        "| what | vector steps/s | melody-steps/s | µs/vector step | × floor |",
        "|---|---|---|---|---|",
        f"| `MelodyComposeVectorEnv` | {vector:,.0f} | {vector * n:,.0f} | {1e6 / vector:.0f} | {floor / vector:.2f} |",
        f"| floor: bare Reward RNN step (`FrozenLSTM.step`) | {floor:,.0f} | {floor * n:,.0f} "
        f"| {1e6 / floor:.0f} | 1.00 |",
        f"| `RuleEvaluator.step` alone | {rules_n:,.0f} | {rules_n * n:,.0f} | {1e6 / rules_n:.0f} | "
        f"{floor / rules_n:.2f} |",
        "",
        "× floor = time of a step / time of the bare Reward RNN step of the same N.",
        "",
    ]
    write_report(args.out, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
