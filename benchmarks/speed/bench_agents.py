"""Speed and a short result of the agents; writes runs/agents.md (``rl-tuner speed`` reports the
same measures in benchmarks/results/speed.md).

1. Throughput: Q-learning at docs/spec.md §6 settings (batch 32, one gradient step per 5 environment
   steps, replay 100,000, Adam 1e-3, clip 5, soft update η = 0.01 after every gradient step) on the
   batched env, environment steps per second *including* the gradient steps; target >= 2,000 on 2
   cores. In the same run, SB3's DQN (``MultiInputPolicy``) on the same env through
   ``MelodySB3VecEnv``, the same budget and the same ratio (``train_freq`` 1 vector step,
   ``gradient_steps`` = N / 5, batch 32), and the ratio of the two.
2. A short Q run from the shipped Note RNN: melodies composed and scored as for Table 1
   (``benchmarks.evaluate``, docs/spec.md §7) from the Note RNN and from the tuned policy.

    python -m benchmarks.speed.bench_agents                              # full run
    python -m benchmarks.speed.bench_agents --speed-steps 4000 --short-steps 2000 --out /tmp/agents.md
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from agents import RLTuner
from agents.step import native
from benchmarks.args import parse_dataclass
from benchmarks.evaluate import compose_and_score, summarise
from benchmarks.timing import command, machine, write_report
from melody_env.note_rnn import load_default_note_rnn
from melody_env.sb3_vec_env import MelodySB3VecEnv
from reward_rules import TABLE1_KEYS


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
    """ε ramp 1.0 → 0.1 of the short run (docs/spec.md §6's 500,000 would leave ε ≈ 0.6 after 200,000 steps)."""
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
    out: str = "runs/agents.md"
    """Markdown report written here."""


def build_tuner(num_envs: int, seed: int = 0, compiled_step: bool | None = None) -> RLTuner:
    """RLTuner Q-learning at docs/spec.md §6 settings on ``num_envs`` melodies, warmed up (20 vector steps).

    :param compiled_step: the tuner's ``compiled_step`` (``False``: the Python gradient step).
    """
    agent = RLTuner("q", "MelodyCompose-v0", n_envs=num_envs, seed=seed, compiled_step=compiled_step)
    agent.learn(20 * num_envs)
    return agent


def build_dqn(num_envs: int, steps: int, seed: int = 0) -> BaseAlgorithm:
    """SB3 DQN on the same env and ratio (N / 5 gradient steps of 32 per vector step), warmed up.

    :param steps: the timed budget; ε ramps over docs/spec.md §6's 500,000 steps as a fraction of it.
    """
    from stable_baselines3 import DQN

    env = MelodySB3VecEnv(num_envs=num_envs, reward_mode="full")
    model = DQN(
        "MultiInputPolicy", env, learning_rate=1e-3, buffer_size=100_000, learning_starts=32, batch_size=32,
        tau=0.01, gamma=0.5, train_freq=1, gradient_steps=max(1, num_envs // 5), target_update_interval=1,
        exploration_fraction=min(1.0, 500_000 / steps), exploration_final_eps=0.1, max_grad_norm=5.0,
        seed=seed, device="cpu",
    )  # fmt: skip
    model.learn(20 * num_envs)
    return model


def best_interleaved(models: dict[str, Any], steps: int, repeats: int) -> dict[str, float]:
    """Env steps/s of each model: the best of ``repeats`` chunks of ``steps / repeats``, alternating models."""
    chunk = max(1, steps // repeats)
    best = dict.fromkeys(models, 0.0)
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.learn(chunk, reset_num_timesteps=False)
            best[name] = max(best[name], chunk / (time.perf_counter() - start))
    return best


OURS = "RLTuner Q (docs/spec.md §6)"
PYTHON_STEP = "RLTuner Q, Python gradient step (`compiled_step=False`)"
DQN_NAME = "SB3 DQN MultiInputPolicy"


def throughput(
    num_envs: int, steps: int, repeats: int, seed: int = 0, dqn: bool = True, python_step: bool = False
) -> dict[str, float]:
    """Env steps/s including gradient steps: best of ``repeats`` interleaved chunks of ``steps / repeats``.

    :param num_envs: melodies in parallel N.
    :param steps: environment steps timed per agent, split into ``repeats`` chunks.
    :param repeats: chunks per agent, alternating between the agents.
    :param seed: seed of the agents and envs.
    :param dqn: also time SB3's DQN (:data:`DQN_NAME`).
    :param python_step: also time RLTuner with the Python gradient step (:data:`PYTHON_STEP`).
    :return: agent name -> env steps/s, RLTuner (:data:`OURS`) first.
    """
    models: dict[str, Any] = {OURS: build_tuner(num_envs, seed)}
    if python_step:
        models[PYTHON_STEP] = build_tuner(num_envs, seed, compiled_step=False)
    if dqn:
        models[DQN_NAME] = build_dqn(num_envs, steps, seed)
    return best_interleaved(models, steps, repeats)


def gradient_step_times(k: int, repeats: int, batch: int = 32, steps: int = 13, seed: int = 0) -> dict[str, float]:
    """Microseconds per gradient step of K Q agents (the Note RNN's shape, batch 32), Python and compiled.

    Each call runs ``steps`` steps (a vector step's worth at N = 64); best of ``repeats`` interleaved calls.
    """
    from agents.step.stacked import Layout, flatten
    from agents.step.update import AdamState, Stack, StepSettings, gradient_step

    note_rnn = load_default_note_rnn()
    layout = Layout.of(note_rnn)
    theta = flatten(note_rnn).repeat(k, 1)
    stack = Stack(theta, theta.clone(), AdamState.zeros(k, layout.size), layout)
    settings = StepSettings(algorithms=("q",) * k, c=torch.full((k, 1), 0.5))
    g = torch.Generator().manual_seed(seed)
    hidden, classes = layout.shapes[1][1], layout.shapes[0][1]
    fields = [
        torch.randint(classes, (steps, k, batch), generator=g),
        torch.randn(steps, k, batch, hidden, generator=g) * 0.5,
        torch.randn(steps, k, batch, hidden, generator=g),
        torch.randint(classes, (steps, k, batch), generator=g),
        -torch.rand(steps, k, batch, generator=g) * 4,
        torch.randn(steps, k, batch, generator=g),
        torch.rand(steps, k, batch, generator=g) < 1 / 32,
        None,
    ]

    def python() -> None:
        for i in range(steps):
            gradient_step(stack, settings, [None if f is None else f[i] for f in fields])

    calls = {"Python step (`agents.step.update`)": python}
    if native.available():
        calls["compiled step (`agents.step.native`)"] = lambda: native.gradient_steps(stack, settings, fields)
    best = dict.fromkeys(calls, float("inf"))
    for call in calls.values():
        call()  # warm-up
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], (time.perf_counter() - start) / steps * 1e6)
    return best


def single_env_throughput(steps: int, repeats: int, seed: int = 0) -> dict[str, float]:
    """Env steps/s of Q and of SB3 DQN when each is handed one ``gym.make("MelodyCompose-v0")`` env, SB3 style.

    RLTuner turns the single env into 64 parallel melodies with its settings; DQN steps it as it is, one
    gradient step of 32 per 5 env steps (``train_freq=5``), the paper's ratio. Best of ``repeats``
    interleaved chunks of ``steps / repeats``, after a warm-up.
    """
    import gymnasium as gym
    from stable_baselines3 import DQN

    tuner = RLTuner("q", gym.make("MelodyCompose-v0"), seed=seed)
    tuner.learn(20 * tuner.n_envs)
    dqn = DQN(
        "MultiInputPolicy", gym.make("MelodyCompose-v0"), learning_rate=1e-3, buffer_size=100_000,
        learning_starts=32, batch_size=32, tau=0.01, gamma=0.5, train_freq=5, gradient_steps=1,
        target_update_interval=1, exploration_fraction=0.5, exploration_final_eps=0.1, max_grad_norm=5.0,
        seed=seed, device="cpu",
    )  # fmt: skip
    dqn.learn(640)
    models = {f"RLTuner Q, one env (→ {tuner.n_envs} melodies)": tuner, "SB3 DQN, one env": dqn}
    return best_interleaved(models, steps, repeats)


def population_throughput(k: int, num_envs: int, steps: int, repeats: int, seed: int = 0) -> dict[str, float]:
    """Env steps/s per agent of one Q agent alone and of K agents in one :class:`agents.Population`.

    Best of ``repeats`` interleaved chunks of ``steps / repeats`` environment steps per agent, after a
    warm-up of 20 vector steps; docs/spec.md §6 settings, ``num_envs`` melodies per agent, seeds ``seed ..``.

    :return: ``{"alone": per-agent steps/s, "population": per-agent steps/s}``.
    """
    from agents.population import Population

    alone = build_tuner(num_envs, seed)
    members = [RLTuner("q", "MelodyCompose-v0", n_envs=num_envs, seed=seed + i) for i in range(k)]
    Population(members).learn(20 * num_envs)
    chunk = max(1, steps // repeats)
    best = {"alone": 0.0, "population": 0.0}
    for _ in range(repeats):
        start = time.perf_counter()
        alone.learn(chunk, reset_num_timesteps=False)
        best["alone"] = max(best["alone"], chunk / (time.perf_counter() - start))
        start = time.perf_counter()
        Population(members).learn(chunk, reset_num_timesteps=False)
        best["population"] = max(best["population"], chunk / (time.perf_counter() - start))
    return best


def short_run(args: Args) -> tuple[dict[str, dict[str, float]], float]:
    """Train Q for ``short_steps``; score the Note RNN's and the tuned policy's melodies as Table 1 does.

    :return: model name -> ``benchmarks.evaluate.summarise`` statistics, and the training seconds.
    """
    agent = RLTuner(
        "q", "MelodyCompose-v0", n_envs=args.num_envs, seed=args.seed, exploration_steps=args.short_exploration_steps
    )
    reward_rnn = load_default_note_rnn()
    n, seed = args.eval_melodies, args.seed
    rows = {"Note RNN": summarise(compose_and_score(reward_rnn, reward_rnn, n, seed=seed))}
    training = 0.0
    for steps in sorted({args.early_eval_steps, args.short_steps} - {0}):
        start = time.perf_counter()
        agent.learn(steps - agent.num_timesteps, reset_num_timesteps=False)
        training += time.perf_counter() - start
        rows[f"Q, {steps:,} steps"] = summarise(compose_and_score(agent, reward_rnn, n, seed=seed))
    return rows, training


def report(args: Args, argv: Sequence[str]) -> str:
    """Run everything and return the Markdown report."""
    torch.set_num_threads(args.threads)
    speeds = throughput(args.num_envs, args.speed_steps, args.repeats, args.seed, dqn=not args.skip_dqn)
    rows, elapsed = short_run(args)
    lines = [
        "# Agents: throughput and a short Q run",
        "",
        f"Command: `{command('benchmarks.speed.bench_agents', argv)}`  ",
        f"Machine: {machine()}; shared with other jobs, so numbers are noisy.",
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
    ours = speeds[OURS]
    lines += ["", f"1,000,000 steps take {1e6 / ours / 60:.1f} min with RLTuner (target ≤ 9 min, ≥ 2,000 steps/s)."]
    if DQN_NAME in speeds:
        lines[-1] += f" Ratio RLTuner / SB3 DQN: **{ours / speeds[DQN_NAME]:.2f}×**."
    keys = ["mean_music_theory_reward", "mean_log_prior", *TABLE1_KEYS]
    lines += [
        "",
        f"## Short run: Q from the shipped Note RNN, {args.short_steps:,} steps ({elapsed:.0f} s of training), "
        f"ε 1.0 → 0.1 over {args.short_exploration_steps:,} steps, other settings docs/spec.md §6",
        "",
        f"{args.eval_melodies:,} melodies of 32 notes each from random primers, sampled at temperature 1 and "
        "scored as for Table 1 (`benchmarks.evaluate`, docs/spec.md §7): mean rMT per note, mean log p(a|s) under the "
        "Note RNN, the Table 1 statistics.",
        "",
        "| statistic | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
        *(f"| {key} | " + " | ".join(f"{row[key]:.3f}" for row in rows.values()) + " |" for key in keys),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m benchmarks.speed.bench_agents [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "python -m benchmarks.speed.bench_agents", __doc__.splitlines()[0])
    write_report(args.out, report(args, argv).splitlines())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
