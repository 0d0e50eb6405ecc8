"""The speed report: every stage of the project timed side by side in one run; writes runs/speed.md.

1. Corpus encoding (docs/spec.md §2): cold (a fresh temporary cache) and warm (the second load).
2. ``MelodyCompose-v0``: the single env, the vector env of N = 256 melodies, the bare batched Reward
   RNN step of the same N (the floor) and their ratio.
3. Training: RLTuner Q at docs/spec.md §6 settings, env steps/s including the gradient steps, beside SB3's
   DQN on the same env and budget.
4. Composing and scoring 100,000 melodies as Table 1 does (``benchmarks.evaluate``, docs/spec.md §7) for the
   Note RNN and a Q tuner (untrained: it composes at the speed of a trained one), stage by stage in one
   process, then in ``--scoring-workers`` worker processes.
5. The wall time of the paper-scale reproduction, read from its ``table1.json``.
6. These figures beside the original implementation's reported ones (not measured here).

    rl-tuner speed                       # = python -m benchmarks.speed.report; about 5 minutes on 2 cores
    python -m benchmarks.speed.report --corpus tests/melody_env/data --corpus-workers 1 --single-steps 200 \\
        --vector-steps 8 --agent-envs 10 --agent-steps 400 --melodies 100 --repeats 1 --out /tmp/speed.md
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from agents import RLTuner
from benchmarks.args import parse_dataclass
from benchmarks.evaluate import (
    CHUNK,
    TASK_CHUNKS,
    Model,
    Scored,
    compose_and_score,
    compose_chunk,
    draw_primers,
    log_prior,
    music_theory,
    summarise,
    worker_count,
)
from benchmarks.page import MODEL_TITLES
from benchmarks.provenance import recorded
from benchmarks.speed import bench_agents, bench_corpus, bench_env, bench_load
from benchmarks.timing import command, machine, write_report
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from melody_env.vector import MelodyComposeVectorEnv
from reward_rules import MelodyScores, score_melodies, table1_intervals_of
from sequence_env.threads import torch_threads

RESULTS = Path(__file__).resolve().parents[1] / "results"
# The original Magenta RL Tuner (TensorFlow 1, run unmodified on this kind of machine): reported
# figures, not measured by this script.
ORIGINAL_STEPS_PER_SECOND = 1_200.0
ORIGINAL_MELODIES_PER_SECOND = 90.0
ORIGINAL_PAPER_SCALE_SECONDS = 2.5 * 3600
NOT_MEASURED = "original: reported figure, not measured here"
TORCH_DEFAULT_THREADS = torch.get_num_threads()  # torch's own default, read before the report sets one thread


@dataclass
class Args:
    out: str = "runs/speed.md"
    """Markdown report written here (the committed report: --out benchmarks/results/speed.md)"""
    threads: int = 1
    """torch.set_num_threads for the run (the nets are tiny: one thread is fastest)."""
    repeats: int = 3
    """timed repetitions of the env and training figures; the best is reported (the machine is shared)"""
    seed: int = 0
    """seed of the actions, envs, agents and melodies"""
    corpus: str = "music21"
    """corpus encoded cold and warm: "music21" or a folder of MIDI/ABC files"""
    corpus_workers: int = 2
    """processes of the cold corpus encoding"""
    single_steps: int = 20_000
    """steps timed on the single env (resets included)"""
    num_envs: int = 256
    """melodies N of the vector env and of the floor"""
    vector_steps: int = 660
    """vector steps timed (each plays N notes)"""
    agent_envs: int = 64
    """melodies in parallel while training (N / 5 gradient steps per vector step)"""
    agent_steps: int = 240_000
    """environment steps timed for each of RLTuner and SB3 DQN (the training budget)"""
    dqn: bool = True
    """also time SB3's DQN"""
    single_env_steps: int = 30_000
    """environment steps timed for RLTuner and SB3 DQN handed one gym.make env (0: skip)"""
    population: int = 8
    """K agents of the population timed against one agent alone (0: skip)"""
    population_steps: int = 60_000
    """environment steps per agent timed for the population comparison"""
    load_vector_steps: int = 132
    """vector steps of each run under load (section 2b)"""
    load_train_steps: int = 2_000
    """env steps of each Q-learning run under load (section 2b; torch's default threads can be slow)"""
    melodies: int = 100_000
    """melodies composed and scored per model (Table 1 uses 100,000)"""
    scoring_workers: int = 2
    """worker processes of compose_and_score in section 4 (its stages are also timed in one process)"""
    paper: str = str(RESULTS / "paper" / "table1.json")
    """table1.json of the paper-scale reproduction (rl-tuner reproduce --scale paper)"""


def duration(seconds: float) -> str:
    """``seconds`` for a reader: ``"42 s"``, ``"18.5 min"`` or ``"2 h 30 min"``."""
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


def shown(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies below it (as the command would name it)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def corpus_section(args: Args) -> list[str]:
    """Encode ``args.corpus`` cold into a fresh temporary cache, then load it warm from that cache."""
    rows, summary = bench_corpus.time_corpus(args.corpus, args.corpus_workers, new_process=False)
    return [
        "## 1. Corpus encoding (docs/spec.md §2)",
        "",
        "| run | wall s | CPU s (incl. workers) |",
        "|---|---|---|",
        *[f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, wall, cpu in rows],
        "",
        *bench_corpus.corpus_lines(args.corpus, summary),
        "",
    ]


def env_section(args: Args) -> list[str]:
    """Single env (made and unwrapped), vector env of N melodies, the bare Reward RNN step of N (floor)."""
    rnn, source = bench_env.reward_rnn("", args.seed)
    n, repeats, seed = args.num_envs, args.repeats, args.seed
    made = bench_env.bench_single(gym.make("MelodyCompose-v0", checkpoint=rnn), args.single_steps, repeats, seed)
    raw = bench_env.bench_single(MelodyComposeEnv(checkpoint=rnn), args.single_steps, repeats, seed)
    vector_env = MelodyComposeVectorEnv(num_envs=n, checkpoint=rnn)
    vector = bench_env.bench_vector(vector_env, args.vector_steps, repeats, seed)
    floor = bench_env.bench_floor(rnn, n, args.vector_steps, repeats, seed)
    return [
        "## 2. Environment `MelodyCompose-v0`",
        "",
        f"Random actions, resets included; Reward RNN: {source}; best of {repeats}.",
        "",
        "| what | steps/s | melody-steps/s | µs per step |",
        "|---|---|---|---|",
        f'| single env, `gym.make("MelodyCompose-v0")` | {made:,.0f} | {made:,.0f} | {1e6 / made:.0f} |',
        f"| single env, `MelodyComposeEnv` (unwrapped) | {raw:,.0f} | {raw:,.0f} | {1e6 / raw:.0f} |",
        f"| vector env, N = {n} | {vector:,.0f} | {vector * n:,.0f} | {1e6 / vector:.0f} |",
        f"| floor: bare Reward RNN step (`FrozenLSTM.step`), N = {n} | {floor:,.0f} | {floor * n:,.0f} | "
        f"{1e6 / floor:.0f} |",
        "",
        f"Vector env / floor: each vector step takes **{floor / vector:.2f}×** the bare Reward RNN step "
        "(the rules, the observation and the bookkeeping are the rest).",
        "",
    ]


def load_section(args: Args) -> list[str]:
    """The vector env and Q-learning with torch's global default threads against the defaults, idle and loaded."""
    if args.load_train_steps < 1:
        return []
    settings = bench_load.Args(
        num_envs=args.num_envs,
        vector_steps=args.load_vector_steps,
        train_steps=args.load_train_steps,
        train_envs=args.agent_envs,
        repeats=args.repeats,
        seed=args.seed,
    )
    torch.set_num_threads(TORCH_DEFAULT_THREADS)  # "global default threads" must mean torch's default here
    rows = bench_load.measure(settings)
    torch.set_num_threads(args.threads)
    return [
        "## 2b. Under load: torch's default threads against one thread",
        "",
        '"idle": the machine as it is; "loaded": one more process spins in pure Python on the other core. '
        "`torch_threads=None` runs the env's and the tuner's torch work on torch's global setting (its default: "
        "one thread per core); the defaults (`torch_threads=1`) run it on one thread and give the caller's "
        "setting back.",
        "",
        "| what | torch threads | idle | loaded | loaded / idle one thread |",
        "|---|---|---|---|---|",
        *(
            f"| {r['what']} ({r['unit']}) | {r['threads']} | {r['idle']:,.0f} | {r['loaded']:,.0f} | "
            f"{r['loaded'] / next(x['idle'] for x in rows if x['what'] == r['what'] and x['torch_threads'] == 1):.2f} |"
            for r in rows
        ),
        "",
    ]


def agents_section(args: Args) -> tuple[list[str], float]:
    """RLTuner Q (docs/spec.md §6) with the compiled and the Python gradient step, and SB3 DQN on the same env and
    budget; then one gradient step timed alone. Returns the lines and RLTuner's steps/s."""
    speeds = bench_agents.throughput(
        args.agent_envs, args.agent_steps, args.repeats, args.seed, dqn=args.dqn, python_step=True
    )
    ours = speeds[bench_agents.OURS]
    lines = [
        "## 3. Training",
        "",
        f"N = {args.agent_envs} melodies in parallel; {args.agent_steps:,} environment steps per agent, in "
        f"{args.repeats} interleaved chunks (the best chunk is reported), after a warm-up of 20 vector steps. "
        "All: batch 32, one gradient step per 5 environment steps, replay 100,000, Adam 1e-3, clip 5, γ = 0.5, "
        "soft target update η = 0.01. RLTuner runs its gradient steps compiled (`agents.step.native`) unless "
        "`compiled_step=False` (or `RL_TUNER_NATIVE=0`).",
        "",
        "| agent | env steps/s incl. gradient steps | 1,000,000 steps take |",
        "|---|---|---|",
        *(f"| {name} | {rate:,.0f} | {duration(1e6 / rate)} |" for name, rate in speeds.items()),
        "",
        f"RLTuner, compiled step / Python step: **{ours / speeds[bench_agents.PYTHON_STEP]:.2f}×**.",
        "",
    ]
    if bench_agents.DQN_NAME in speeds:
        lines += [f"RLTuner / SB3 DQN: **{ours / speeds[bench_agents.DQN_NAME]:.2f}×**.", ""]
    lines += step_lines(args)
    if args.dqn and args.single_env_steps > 0:
        single = bench_agents.single_env_throughput(args.single_env_steps, args.repeats, args.seed)
        (tuner_name, tuner_rate), (dqn_name, dqn_rate) = single.items()
        lines += [
            'Handed one `gym.make("MelodyCompose-v0")` env, SB3 style (DQN: one gradient step per 5 env steps):',
            "",
            "| agent | env steps/s incl. gradient steps |",
            "|---|---|",
            f"| {tuner_name} | {tuner_rate:,.0f} |",
            f"| {dqn_name} | {dqn_rate:,.0f} |",
            "",
            f"RLTuner / SB3 DQN on one env: **{tuner_rate / dqn_rate:.2f}×**.",
            "",
        ]
    return lines, ours


def step_lines(args: Args) -> list[str]:
    """One gradient step (batch 32, the Note RNN's shape) of one agent and of K, Python against compiled."""
    ks = sorted({1, max(1, args.population)})
    times = {k: bench_agents.gradient_step_times(k, max(5, 4 * args.repeats), seed=args.seed) for k in ks}
    names = list(times[ks[0]])
    lines = [
        "One gradient step alone (random batches of 32, 13 steps per call as after a vector step of 64, best of "
        "interleaved calls), microseconds per step of all K agents:",
        "",
        "| K agents | " + " | ".join(names) + " | Python / compiled |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for k, row in times.items():
        ratio = f"{row[names[0]] / row[names[1]]:.2f}×" if len(names) == 2 else "–"
        lines.append(f"| {k} | " + " | ".join(f"{row[n]:,.0f}" for n in names) + f" | {ratio} |")
    return [*lines, ""]


def population_section(args: Args) -> list[str]:
    """K Q agents trained in lock-step (``agents.Population``) against one agent alone, per agent."""
    if args.population < 1:
        return []
    k, n = args.population, args.agent_envs
    speeds = bench_agents.population_throughput(k, n, args.population_steps, args.repeats, args.seed)
    alone, together = speeds["alone"], speeds["population"]
    return [
        f"## 3b. A population of K = {k} agents",
        "",
        f"Q at the settings above, N = {n} melodies per agent, seeds {args.seed}..{args.seed + k - 1}; "
        f"{args.population_steps:,} environment steps per agent in {args.repeats} interleaved chunks (best chunk).",
        "",
        "| training | env steps/s per agent | env steps/s, all agents |",
        "|---|---|---|",
        f"| one agent alone | {alone:,.0f} | {alone:,.0f} |",
        f"| K = {k} in one `Population` | {together:,.0f} | {together * k:,.0f} |",
        "",
        f"Per agent, the population trains at **{together / alone:.2f}×** the speed of one agent alone "
        f"(all {k} agents together: **{together * k / alone:.2f}×**).",
        "",
    ]


def processes(count: int) -> str:
    """``"1 process"`` or ``"2 worker processes"``."""
    return "1 process" if count == 1 else f"{count} worker processes"


def time_scoring(model: Model, reward_rnn: NoteRNN, n: int, seed: int, workers: int) -> dict[str, float | None]:
    """Seconds of each stage of ``compose_and_score(model, reward_rnn, n)`` + ``summarise`` in one process (the
    stages as it runs them; ``None``: a stage it skips), then of the whole with ``workers`` processes, and
    of the intervals ``rl-tuner reproduce`` adds."""
    clock = time.perf_counter()
    seconds: dict[str, float | None] = {}

    def lap(stage: str) -> None:
        nonlocal clock
        seconds[stage], clock = time.perf_counter() - clock, time.perf_counter()

    with torch_threads():
        primers = draw_primers(n, seed)
        starts = range(0, n, CHUNK)
        chunks = [compose_chunk(model, primers[s : s + CHUNK], 32, seed + 1 + s, reward_rnn) for s in starts]
        melodies = np.concatenate([m for m, _ in chunks])
        lap("compose (log p recorded when the composer computes it)")
        recorded = all(p is not None for _, p in chunks)
        prior = np.concatenate([p for _, p in chunks]) if recorded else log_prior(reward_rnn, primers, melodies)
        lap("log-prior scoring (a separate Reward RNN pass)")
        if recorded:
            seconds["log-prior scoring (a separate Reward RNN pass)"] = None
        blocks = [melodies[s : s + TASK_CHUNKS * CHUNK] for s in range(0, n, TASK_CHUNKS * CHUNK)]  # as its tasks
        rules = np.concatenate([music_theory(block) for block in blocks])
        lap("rules (rMT of every note)")
        detectors = MelodyScores.concatenate([score_melodies(block) for block in blocks])
        lap("Table 1 detectors (`score_melodies`)")
        summarise(Scored(primers, melodies, prior, rules, detectors=detectors))
        lap("statistics (`summarise`)")
    seconds["total, stage by stage in 1 process"] = sum(t for t in seconds.values() if t is not None)
    clock = time.perf_counter()
    scored = compose_and_score(model, reward_rnn, n, seed=seed, workers=workers)
    summarise(scored)
    lap(f"total, `compose_and_score` + `summarise` in {processes(worker_count(n, workers))}")
    table1_intervals_of(scored.detectors)
    lap("95 % intervals (`table1_intervals_of` on the detectors)")
    return seconds


def scoring_section(args: Args) -> tuple[list[str], float]:
    """Compose and score ``args.melodies`` melodies per model; returns the lines and the Q tuner's melodies/s
    with ``args.scoring_workers`` processes."""
    reward_rnn = load_default_note_rnn()
    models: dict[str, Model] = {"Note RNN": reward_rnn, "Q tuner": RLTuner("q", "MelodyCompose-v0", n_envs=1)}
    workers = args.scoring_workers
    times = {name: time_scoring(m, reward_rnn, args.melodies, args.seed, workers) for name, m in models.items()}
    stages = list(next(iter(times.values())))
    n = args.melodies

    def row(stage: str, bold: bool = False) -> str:
        mark = "**" if bold else ""
        cells = ("–" if t[stage] is None else f"{mark}{t[stage]:.2f}{mark}" for t in times.values())
        return f"| {mark}{stage}{mark} | " + " | ".join(cells) + " |"

    speed = {name: n / t[stages[-2]] for name, t in times.items()}
    used = worker_count(n, workers)
    return [
        f"## 4. Composing and scoring {n:,} melodies (Table 1, docs/spec.md §7)",
        "",
        "`benchmarks.evaluate.compose_and_score` + `summarise`: stage by stage in one process (one run each; "
        "–: the stage does not run, the Note RNN's log p(a|s) is recorded while it composes), then the whole "
        f"with `workers={workers}` ({processes(used)}, forked, one torch thread each; the same numbers). The Q "
        "tuner is untrained: composing costs the same before and after training.",
        "",
        "| stage, seconds | " + " | ".join(times) + " |",
        "|---|" + "---|" * len(times),
        *(row(stage) for stage in stages[:-3]),
        row(stages[-3], bold=True),
        row(stages[-2], bold=True),
        f"| **melodies/s, {processes(used)}** | " + " | ".join(f"**{v:,.0f}**" for v in speed.values()) + " |",
        f"| then {stages[-1]}, as `rl-tuner reproduce` also does | "
        + " | ".join(f"{t[stages[-1]]:.2f}" for t in times.values())
        + " |",
        "",
    ], speed["Q tuner"]


def read_paper_run(path: str | Path) -> dict | None:
    """The paper-scale reproduction's ``table1.json``, or ``None`` when it has not been written yet."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def paper_section(run: dict | None, path: str | Path) -> list[str]:
    """Wall time, training times and command of the paper-scale reproduction (``run``: its table1.json)."""
    lines = ["## 5. Paper-scale reproduction", ""]
    if run is None:
        return [*lines, f"Not run yet (no `{shown(path)}`).", ""]
    settings = run.get("settings", {})
    training = ", ".join(f"{MODEL_TITLES.get(a, a)} {duration(s)}" for a, s in run["training_seconds"].items())
    return [
        *lines,
        f"From `{shown(path)}` (written by that run, not timed here): command `{run['command']}`.",
        "",
        f"- wall time: **{duration(run['wall_time_seconds'])}**",
        f"- training (per tuner, {settings.get('workers', '?')} at a time): {training}",
        f"- settings: {settings.get('steps', 0):,} env steps per tuner, {settings.get('melodies', 0):,} melodies "
        f"scored per model",
        f"- machine: {run.get('machine', 'not recorded')}",
        "",
    ]


def comparison_section(steps_per_second: float, melodies_per_second: float, paper_seconds: float | None) -> list[str]:
    """Our figures beside the original implementation's reported ones, with the speed-up of each."""
    per_100k = 100_000 / melodies_per_second
    paper, paper_ratio = "not run yet", "–"
    if paper_seconds is not None:
        paper, paper_ratio = duration(paper_seconds), f"{ORIGINAL_PAPER_SCALE_SECONDS / paper_seconds:.1f}×"
    return [
        "## 6. Beside the original implementation",
        "",
        f"The original column is **{NOT_MEASURED}**: the original Magenta RL Tuner (TensorFlow 1, run "
        "unmodified on this kind of machine) trains at ≈1,200 env steps/s and scores ≈90 melodies/s for Table 1 "
        "(≈18 minutes per 100,000 melodies); a paper-scale reproduction takes it ≈2.5 hours. Our column is "
        "measured above in this run (section 5: read from the reproduction's own record).",
        "",
        f"| measure | ours | {NOT_MEASURED} | speed-up |",
        "|---|---|---|---|",
        f"| training, env steps/s incl. gradient steps (RLTuner Q) | {steps_per_second:,.0f} | "
        f"≈{ORIGINAL_STEPS_PER_SECOND:,.0f} | {steps_per_second / ORIGINAL_STEPS_PER_SECOND:.1f}× |",
        f"| Table 1 composing + scoring, melodies/s (Q tuner) | {melodies_per_second:,.0f} | "
        f"≈{ORIGINAL_MELODIES_PER_SECOND:.0f} | {melodies_per_second / ORIGINAL_MELODIES_PER_SECOND:.0f}× |",
        f"| time per 100,000 melodies | {duration(per_100k)} | ≈18 min | "
        f"{100_000 / ORIGINAL_MELODIES_PER_SECOND / per_100k:.0f}× |",
        f"| paper-scale reproduction, wall time | {paper} | ≈2.5 h | {paper_ratio} |",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``rl-tuner speed`` / ``python -m benchmarks.speed.report [--options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "rl-tuner speed", __doc__.splitlines()[0])
    torch.set_num_threads(args.threads)
    with recorded(args.out, "rl-tuner speed " + shlex.join(argv)):
        _run(args, argv)
    return 0


def _run(args: Args, argv: list[str]) -> None:
    start = time.perf_counter()
    corpus = corpus_section(args)
    env = env_section(args)
    env += load_section(args)
    agents, steps_per_second = agents_section(args)
    agents += population_section(args)
    scoring, melodies_per_second = scoring_section(args)
    run = read_paper_run(args.paper)
    paper = paper_section(run, args.paper)
    paper_seconds = None if run is None else run["wall_time_seconds"]
    comparison = comparison_section(steps_per_second, melodies_per_second, paper_seconds)
    lines = [
        "# Speed report",
        "",
        f"Command: `{command('benchmarks.speed.report', argv)}` (or `rl-tuner speed` with the same flags)  ",
        f"Machine: {machine()}  ",
        f"Run: {time.strftime('%Y-%m-%d %H:%M %Z')}, {duration(time.perf_counter() - start)}; all parts in this one "
        "run, one after the other (the corpus's cold encoding and section 4's whole runs use worker processes, "
        "everything else one process).",
        "",
        *corpus,
        *env,
        *agents,
        *scoring,
        *paper,
        *comparison,
    ]
    write_report(args.out, lines)


if __name__ == "__main__":
    raise SystemExit(main())
