"""Reproduce the paper's Table 1 and Figures 2 and 4, with a listening page.

``rl-tuner reproduce`` (or ``python -m benchmarks.reproduction.table1``) trains Q, Ψ, G and RL-only from the
shipped Note RNN with docs/spec.md §6 settings, records Figure 2 during training, then composes and scores
``melodies`` melodies per model (the Note RNN included) and writes, under ``--out``:
``table1.md`` / ``table1.json``, ``fig2.png`` / ``fig2.csv``, ``fig4.png``, ``samples/`` (MIDI, WAV,
piano rolls) and ``index.html``.

With ``--outside N`` each model's scoring worker also judges the first N of its melodies from outside
(:mod:`benchmarks.outside`: muspy's features and the Yang–Lerch distances to the held-out validation
openings, music21's key check) against the reference a sweep uses (:func:`benchmarks.sweep.outside.reference`,
built once per process), and the run writes ``outside.json`` / ``outside.md`` (the report of ``rl-tuner
outside``) and a short table in ``table1.md`` and on the page.

Run again on the same ``--out``, the command reuses the tuners already under ``out/models`` and does
not retrain them. It first checks that each reused tuner was trained with the settings asked for
(its saved env steps, melodies in parallel, seed, ε ramp and c) and stops with one line naming the
difference if not. The table and the page are labelled with the env steps the tuners really took
(the saved ``num_timesteps``: ``--steps`` rounded up to whole rounds of ``--n-envs`` melodies), and the
timing says which tuners were reused.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from tqdm import tqdm

from agents import RLTuner
from benchmarks.args import parse_dataclass
from benchmarks.evaluate import Model, Scored, compose_and_score, summarise
from benchmarks.figures import plot_figure2, plot_figure4, read_fig2_csv, write_fig2_csv
from benchmarks.page import MODEL_TITLES, Sample, write_listening_page
from benchmarks.paper_numbers import PAPER_MODELS, PAPER_TABLE1, paper_value
from benchmarks.provenance import code_state, recorded
from benchmarks.reproduction.reuse import Asked, SettingsError, Training, check_reused, steps_label, timing_label
from melody_env.encoding import write_midi
from melody_env.listen import save_piano_roll, write_wav
from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from reward_rules import TABLE1_KEYS, table1_intervals_of
from sequence_env.atomic import atomic_write

if TYPE_CHECKING:
    from benchmarks.reproduction.table1_outside import Outside

ALGORITHMS = ("q", "psi", "g", "rl_only")
MODELS = ("note_rnn", *ALGORITHMS)
# scale -> (env steps per tuner, melodies scored per model); docs/spec.md §6-7 for "paper".
SCALES = {"quick": (200_000, 10_000), "paper": (1_000_000, 100_000)}


@dataclass
class Args:
    """Settings of the reproduction (defaults: docs/spec.md §6 at the ``quick`` scale)."""

    out: str = "runs/reproduce"
    """output folder (results, models, samples, page); rerunning resumes in it"""
    scale: str = "quick"
    """``quick`` (a few minutes) or ``paper`` (1,000,000 steps per tuner, 100,000 melodies per model)"""
    steps: int = 0
    """environment steps per tuner (0: the scale's)"""
    melodies: int = 0
    """melodies composed and scored per model (0: the scale's)"""
    algorithms: str = ",".join(ALGORITHMS)
    """tuners to train, comma-separated"""
    c: float = 0.5
    """weight c of the music-theory reward, r = log p(a|s) + rMT/c (docs/spec.md §5-6)"""
    n_envs: int = 64
    """melodies composed in parallel while training (one gradient step per 5 env steps still holds)"""
    eval_points: int = 10
    """Figure 2 evaluations per tuner, evenly spaced (the paper: every 100,000 of 1,000,000 steps)"""
    eval_melodies: int = 100
    """melodies per Figure 2 evaluation (the paper: 100)"""
    samples: int = 4
    """melodies per model written as MIDI, WAV and piano roll for the listening page"""
    seed: int = 0
    """seed of training, composing and scoring"""
    torch_threads: int = 1
    """torch threads per process (the nets are tiny; one thread per process is fastest)"""
    workers: int = 2
    """tuners trained at the same time, one process each (one per core)"""
    outside: int = 0
    """melodies per model given to the outside measures, outside.md (0: none; all when fewer are composed)"""
    allow_mixed_commits: bool = False
    """reuse tuners under --out/models trained at another commit"""


class Figure2Callback(BaseCallback):
    """Every ``every`` steps (and at the start), compose ``n`` melodies and record mean log p(a|s) and rMT."""

    def __init__(self, model_name: str, reward_rnn: NoteRNN, every: int, n: int, seed: int) -> None:
        super().__init__()
        self.model_name, self.reward_rnn, self.every, self.n, self.seed = model_name, reward_rnn, every, n, seed
        self.rows: list[dict[str, float | str]] = []
        self._next = 0

    def _record(self) -> None:
        scored = compose_and_score(self.model, self.reward_rnn, self.n, seed=self.seed)
        row = {
            "model": self.model_name,
            "step": float(self.num_timesteps),
            "mean_log_prior": float(scored.log_prior.mean()),
            "mean_music_theory": float(scored.music_theory.mean()),
        }
        self.rows.append(row)
        self.logger.record("eval/mean_log_prior", row["mean_log_prior"])
        self.logger.record("eval/mean_music_theory", row["mean_music_theory"])
        self._next += self.every

    def _on_training_start(self) -> None:
        self._record()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._record()
        return True

    def _on_training_end(self) -> None:
        if self.rows[-1]["step"] < self.num_timesteps:
            self._record()


def _resolve(args: Args) -> tuple[int, int, tuple[str, ...]]:
    if args.scale not in SCALES:
        raise SettingsError(f"--scale must be one of {sorted(SCALES)}, got {args.scale!r}")
    steps = args.steps or SCALES[args.scale][0]
    melodies = args.melodies or SCALES[args.scale][1]
    algorithms = tuple(a.strip() for a in args.algorithms.split(",") if a.strip())
    unknown = set(algorithms) - set(ALGORITHMS)
    if unknown:
        raise SettingsError(f"unknown algorithms {sorted(unknown)}; choose from {ALGORITHMS}")
    if args.outside < 0:
        raise SettingsError(f"--outside must be a non-negative integer (0: no outside measures), got {args.outside}")
    return steps, melodies, algorithms


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class _SharedProgress(BaseCallback):
    """Adds this worker's environment steps to a counter shared with the parent's progress bar."""

    def __init__(self, counter) -> None:
        super().__init__()
        self.counter, self._seen = counter, 0

    def _on_step(self) -> bool:
        with self.counter.get_lock():
            self.counter.value += self.num_timesteps - self._seen
        self._seen = self.num_timesteps
        return True


_COUNTER = None


def _init_worker(counter, threads: int) -> None:
    global _COUNTER
    _COUNTER = counter
    torch.set_num_threads(threads)


def train_tuner(algorithm: str, args: Args, steps: int, out: str) -> float:
    """Train one tuner (docs/spec.md §6; ε ramps over the first half of ``steps``) and save it under ``out/models``.

    :return: training wall time in seconds.
    """
    models = Path(out) / "models"
    tuner = RLTuner(
        algorithm,
        "MelodyCompose-v0",
        n_envs=args.n_envs,
        env_kwargs={"c": args.c},
        exploration_steps=steps // 2,
        seed=args.seed,
        nan_checkpoint_path=models / f"{algorithm}.last_good.zip",
        tensorboard_log=str(Path(out) / "tensorboard"),
        torch_threads=args.torch_threads,
    )
    fig2 = Figure2Callback(algorithm, tuner.networks.reward_rnn, max(steps // args.eval_points, 1),
                           args.eval_melodies, args.seed)  # fmt: skip
    callbacks = [fig2] if _COUNTER is None else [fig2, _SharedProgress(_COUNTER)]
    start = time.perf_counter()
    tuner.learn(steps, callback=CallbackList(callbacks), tb_log_name=algorithm, progress_bar=_COUNTER is None)
    seconds = time.perf_counter() - start
    tuner.save(models / f"{algorithm}.zip")
    write_fig2_csv(fig2.rows, models / f"{algorithm}.fig2.csv")
    record = {"steps": tuner.num_timesteps, "seconds": seconds, "c": args.c, "code": code_state()}
    _write_text(models / f"{algorithm}.json", json.dumps(record))
    return seconds


Scores = tuple[Scored, dict[str, float], dict[str, list[float]], "Outside | None"]


def train_and_score(
    algorithms: Sequence[str], args: Args, steps: int, melodies: int, out: Path
) -> tuple[dict[str, Training], dict[str, Scores]]:
    """Train the tuners not yet finished in ``out`` (resumable), then :func:`score_model` every model.

    With ``args.workers`` > 1 every job runs in one pool of that many processes (one per core): the
    Note RNN's scoring and the training jobs are queued first, and each tuner's scoring as soon as it is
    trained, so no core waits for the slowest job of a round. Finished tuners are reused after
    :func:`~benchmarks.reproduction.reuse.check_reused` finds them trained with the settings asked for.

    :raises SettingsError: a finished tuner was trained with other settings.
    :return: algorithm -> its training (seconds read back for tuners finished by an earlier run), and
        model -> its scores, the Note RNN first.
    """
    (out / "models").mkdir(parents=True, exist_ok=True)
    done = {a: out / "models" / f"{a}.json" for a in algorithms}
    asked = Asked(steps, args.n_envs, args.seed, args.c)
    reused = check_reused(algorithms, asked, out / "models", args.allow_mixed_commits)
    todo = [a for a in algorithms if a not in reused]
    if reused:
        titles = ", ".join(MODEL_TITLES[a] for a in reused)
        print(f"[reproduce] reusing {titles} from {out / 'models'} (not retrained; delete them to retrain)", flush=True)
    if todo:
        print(f"[reproduce] training {', '.join(todo)}: {steps:,} steps each, {args.workers} at a time", flush=True)
    names = ["note_rnn", *algorithms]
    also = f", the first {min(args.outside, melodies):,} measured from outside" if args.outside else ""
    print(f"[reproduce] composing and scoring {melodies:,} melodies{also} per model: {', '.join(names)}", flush=True)
    job = (str(out), melodies, args.seed, args.outside)
    if args.workers == 1:
        for algorithm in todo:
            train_tuner(algorithm, args, steps, str(out))
        scores = {name: score_model(name, *job) for name in names}
    else:
        context = mp.get_context("spawn")
        counter = context.Value("q", 0)
        pool = ProcessPoolExecutor(args.workers, context, _init_worker, (counter, args.torch_threads))
        with pool, tqdm(total=steps * len(todo), unit="step", desc="training", smoothing=0.05) as bar:
            try:
                scoring = {n: pool.submit(score_model, n, *job) for n in names if n == "note_rnn" or n in reused}
                training = {pool.submit(train_tuner, a, args, steps, str(out)): a for a in todo}
                while training:
                    finished, _ = wait(training, timeout=0.5, return_when=FIRST_COMPLETED)
                    bar.update(counter.value - bar.n)
                    for future in finished:
                        algorithm = training.pop(future)
                        future.result()  # re-raises a worker's error (e.g. NaNLossError)
                        scoring[algorithm] = pool.submit(score_model, algorithm, *job)
                scores = {name: scoring[name].result() for name in names}
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the running jobs finish (and save); the queued ones never start
                raise
    return {a: Training(json.loads(done[a].read_text())["seconds"], a in reused) for a in algorithms}, scores


def score_model(name: str, out: str, melodies: int, seed: int, outside: int = 0) -> Scores:
    """Compose and score ``melodies`` melodies of one model (docs/spec.md §7): melodies, statistics, intervals,
    and the outside measures of the first ``outside`` melodies.

    :param name: ``"note_rnn"`` (the shipped Note RNN) or a tuner saved as ``out/models/<name>.zip``.
    :param seed: the run's seed: melodies composed with seed + 1; the outside measures' pairs and key
        sample seeded with it, as a sweep seed's ``outside.json`` (:mod:`benchmarks.sweep.outside`).
    :param outside: melodies given to the outside measures (0: none).
    """
    reward_rnn = load_default_note_rnn()
    model = reward_rnn if name == "note_rnn" else RLTuner.load(Path(out) / "models" / f"{name}.zip")
    scored = compose_and_score(model, reward_rnn, melodies, seed=seed + 1)
    intervals = {k: [v.low, v.high] for k, v in table1_intervals_of(scored.detectors).items()}
    measured = None
    if outside:  # muspy and music21's analysis take seconds to import: only when asked
        from benchmarks.reproduction.table1_outside import measure

        measured = measure(scored.melodies[:outside], seed)
    return scored, summarise(scored), intervals, measured


def _samples(name: str, scored: Scored, out: Path, count: int) -> list[Sample]:
    """Write the first ``count`` scored melodies as MIDI, WAV (the melody alone) and piano roll (primer shaded).

    :return: the page's samples, each with its primer.
    """
    folder = out / "samples" / name
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, (melody, primer) in enumerate(zip(scored.melodies[:count], scored.primers[:count], strict=True)):
        stem = folder / f"{name}_{i}"
        write_midi(melody, stem.with_suffix(".mid"))
        write_wav(melody, stem.with_suffix(".wav"))
        save_piano_roll(melody, stem.with_suffix(".png"), title=f"{MODEL_TITLES[name]} #{i}", primer=[primer])
        rel = stem.relative_to(out).as_posix()
        notes = tuple(int(t) for t in melody)
        samples.append(Sample(rel + ".wav", rel + ".mid", rel + ".png", melody=notes, primer=int(primer)))
    return samples


@torch.no_grad()
def _next_note_probabilities(model: Model, melody: np.ndarray, primer: int) -> np.ndarray:
    if isinstance(model, RLTuner):
        return model.next_note_probabilities(melody, primer)
    inputs = torch.as_tensor(np.concatenate([[primer], melody[:-1]]), dtype=torch.long)[None]
    return torch.softmax(model(inputs)[0][0], -1).numpy()


def _markdown(result: dict, outside: dict | None = None) -> str:
    """The text of ``table1.md``; with the outside report, its short table too."""
    if outside is not None:
        from benchmarks.reproduction.table1_outside import outside_markdown
    models = list(result["models"])
    head = "| statistic | " + " | ".join(f"{MODEL_TITLES[m]} (ours / paper)" for m in models) + " |"
    lines = [head, "|" + "---|" * (len(models) + 1)]
    for stat in [*TABLE1_KEYS, "mean_log_prior", "mean_music_theory_reward", "distinct_melodies"]:
        cells = []
        for m in models:
            ours = result["models"][m][stat]
            ci = result["intervals"].get(m, {}).get(stat)
            paper = paper_value(stat, m)
            pct = stat not in ("mean_log_prior", "mean_music_theory_reward") and not stat.startswith("auto")
            f = (lambda v: f"{100 * v:.2f} %") if pct else (lambda v: f"{v:.3f}")
            text = f(ours) + (f" [{f(ci[0])}, {f(ci[1])}]" if ci else "")
            text = "—" if math.isnan(ours) else text  # nothing to count (no leap, every melody constant)
            cells.append(text + (f" / {f(paper)}" if paper is not None else ""))
        lines.append(f"| {stat.replace('_', ' ')} | " + " | ".join(cells) + " |")
    s = result["settings"]
    return (
        "# Table 1, reproduced\n\n"
        f"Command: `{result['command']}`  \n"
        f"Machine: {result['machine']}  \n"
        f"Wall time: {timing_label(result['wall_time_seconds'], result['training_seconds'], result['reused_models'])}"
        "  \n"
        f"Settings: {steps_label(result['training_steps'])}, {s['melodies']:,} melodies per model, c = {s['c']}, "
        f"{s['n_envs']} melodies in parallel, seed {s['seed']}; other hyperparameters as docs/spec.md §6.\n\n"
        "Each cell: ours [95 % interval] / the paper. Fractions of notes, melodies or leaps as docs/spec.md §7 defines;"
        " autocorrelations signed; mean log p(a|s) under the Note RNN; mean rMT per note.\n\n"
        + "\n".join(lines)
        + "\n"
        + ("" if outside is None else outside_markdown(outside))
    )


def reproduce(args: Args, command: str) -> dict:
    """Run the whole reproduction; return what ``table1.json`` holds."""
    torch.set_num_threads(args.torch_threads)
    steps, melodies, algorithms = _resolve(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wall = time.perf_counter()
    reward_rnn = load_default_note_rnn()
    training, scores = train_and_score(algorithms, args, steps, melodies, out)
    tuners = {a: RLTuner.load(out / "models" / f"{a}.zip") for a in algorithms}
    models: dict[str, Model] = {"note_rnn": reward_rnn, **tuners}
    rows = [r for a in algorithms for r in read_fig2_csv(out / "models" / f"{a}.fig2.csv")]
    write_fig2_csv(rows, out / "fig2.csv")
    plot_figure2(rows, out / "fig2.png")

    stats, intervals, samples, scored_all, measured = {}, {}, {}, {}, {}
    for name, (scored, model_stats, model_intervals, model_outside) in scores.items():
        scored_all[name], stats[name], intervals[name] = scored, model_stats, model_intervals
        if model_outside is not None:
            measured[name] = model_outside
        samples[name] = _samples(name, scored, out, args.samples)
        np.savez_compressed(out / f"melodies_{name}.npz", primers=scored.primers, melodies=scored.melodies)

    reference = scored_all[algorithms[0] if algorithms else "note_rnn"]
    melody, primer = reference.melodies[0], int(reference.primers[0])
    plot_figure4(melody, {n: _next_note_probabilities(m, melody, primer) for n, m in models.items()}, out / "fig4.png")
    report = None
    if measured:
        from benchmarks.reproduction.table1_outside import outside_report

        report = outside_report(measured, min(args.outside, melodies), args.out, args.seed, command, wall)
    result = {
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({args.torch_threads} thread)",
        "settings": {**asdict(args), "steps": steps, "melodies": melodies},
        "seed": args.seed,
        "wall_time_seconds": time.perf_counter() - wall,
        "training_seconds": {a: t.seconds for a, t in training.items()},
        "training_steps": {a: tuner.num_timesteps for a, tuner in tuners.items()},
        "reused_models": [a for a, t in training.items() if t.reused],
        **({} if report is None else {"outside_seconds": report["seconds"]}),
        "models": stats,
        "intervals": intervals,
        "paper": {m: {k: PAPER_TABLE1[k][i] for k in TABLE1_KEYS} for i, m in enumerate(PAPER_MODELS)},
    }
    _write_text(out / "table1.json", json.dumps(result, indent=2))
    _write_text(out / "table1.md", _markdown(result, report))
    shown = [*TABLE1_KEYS, "mean_log_prior", "mean_music_theory_reward", "distinct_melodies"]
    table_rows = {m: {k: s[k] for k in shown} for m, s in stats.items()}
    reused = " (tuners reused from an earlier run)" if result["reused_models"] else ""
    subtitle = (
        f"{command} — {steps_label(result['training_steps'])}{reused}, {melodies:,} melodies per model; "
        f"{result['machine']}"
    )
    figures = [("Figure 2: mean log p(a|s) and rMT during training", "fig2.png"),
               ("Figure 4: next-note probabilities along one melody", "fig4.png")]  # fmt: skip
    summary = None
    if report is not None:
        from benchmarks.reproduction.table1_outside import page_summary

        summary = page_summary(report)
    write_listening_page(out, table_rows, result["paper"], samples, figures, subtitle, summary)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the reproduction and print the table and the listening page's path."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "rl-tuner reproduce", __doc__.splitlines()[0])
    try:
        command = "rl-tuner reproduce " + shlex.join(argv)
        with recorded(args.out, command):
            result = reproduce(args, command)
    except SettingsError as exc:
        print(f"rl-tuner reproduce: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    print((out / "table1.md").read_text())
    print(f"Listening page: {(out / 'index.html').resolve()}")
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
