"""Compose and score melodies the way Table 1 and Figure 2 do (docs/spec.md §7).

Every model composes from one random note onset (the primer, not part of the melody) and samples
each note from its policy at temperature 1: p for the Note RNN, softmax(Q), softmax(Ψ), or
softmax(G + log p). The primers come from one generator seeded ``seed``; the melodies are composed
in chunks of ``batch`` (1,000), each drawing from its own generator seeded ``seed + 1 + start`` (its
first melody's index), so a chunk's melodies depend on the seed and the chunk alone. The melodies
are then scored with the Reward RNN (log p(a|s), the data likelihood the tuners should keep) and the
rules (rMT per note), all batched.

log p(a|s) of a drawn note is recorded while composing when the composer computes it anyway: the
Note RNN composing is the Reward RNN, and a G tuner steps its Reward RNN for its policy (when their
weights are the scoring Reward RNN's). The other melodies take one pass of the Reward RNN
(:func:`log_prior`). ``compose_and_score(..., workers=2)`` shares the chunks out to forked worker
processes, one torch thread each; its numbers do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from agents import RLTuner
from agents.inference import compose_from
from melody_env.note_rnn import NoteRNN
from reward_rules import (
    C_MAJOR,
    DEFAULT_RULES,
    Key,
    MelodyScores,
    RuleEvaluator,
    RuleSet,
    extra_stats,
    score_melodies,
    table1_stats_of,
)
from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES
from sequence_env.threads import DEFAULT_TORCH_THREADS, torch_threads

Model = RLTuner | NoteRNN
CHUNK = 1_000
"""Melodies composed from one generator (``seed + 1 + start``)."""
TASK_CHUNKS = 2
"""Chunks per task of :func:`compose_and_score`: the rules of a few thousand melodies run 15 % faster
than of 100,000 at once (their per-note arrays stay in cache), and small tasks even out the workers."""


@dataclass(frozen=True)
class Scored:
    """Melodies with their per-note scores, all (n, T), the rules in ``key``; ``detectors``: the rule
    detectors behind the Table 1 statistics (:func:`reward_rules.score_melodies` in ``key``), when
    :func:`compose_and_score` ran them beside the rules."""

    primers: np.ndarray
    melodies: np.ndarray
    log_prior: np.ndarray
    music_theory: np.ndarray
    key: Key = C_MAJOR
    detectors: MelodyScores | None = None


@dataclass(frozen=True)
class _Job:
    """What every chunk of one :func:`compose_and_score` call shares (a worker gets it by fork, unpickled)."""

    model: Model
    reward_rnn: NoteRNN
    primers: np.ndarray
    length: int
    seed: int
    key: Key
    batch: int


_JOB: _Job | None = None  # the job of a worker process (set by _start_worker)


def draw_primers(n: int, seed: int) -> np.ndarray:
    """The ``(n,)`` primers of :func:`compose`: random note onsets from one generator seeded ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(FIRST_PITCH_CLASS, NUM_CLASSES, (n,), generator=generator).numpy()


def same_weights(a: NoteRNN, b: NoteRNN) -> bool:
    """Whether two Note RNNs hold the same weights (then one's log p is the other's)."""
    if a is b:
        return True
    wa, wb = a.state_dict(), b.state_dict()
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@torch.no_grad()
def compose_chunk(
    model: Model, primers: np.ndarray, length: int, seed: int, reward_rnn: NoteRNN | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """One chunk of :func:`compose`: melodies from ``primers (B,)`` drawn from a generator seeded ``seed``.

    :return: ``(melodies (B, length), log p)``; log p (B, length) of the drawn notes under ``reward_rnn``
        when composing computed it (module docs), else ``None``.
    """
    records = isinstance(model, NoteRNN) or (isinstance(model, RLTuner) and model.algorithm == "g")
    if not records:  # Q, Ψ, RL only and other agents with RLTuner's generate
        return model.generate(len(primers), temperature=1.0, seed=seed, primer=primers[:, None], length=length), None
    generator = torch.Generator().manual_seed(seed)
    notes = torch.as_tensor(primers, dtype=torch.long)
    if isinstance(model, NoteRNN):
        melodies, log_p = model.sample(len(notes), length, notes, generator=generator, with_log_prob=True)
        prior_rnn = model
    else:  # G: the same loop as RLTuner.generate, which drops the log p its policy computed
        melodies, log_p = compose_from(model.networks, "g", notes[:, None], length, 1.0, generator)
        prior_rnn = model.networks.reward_rnn
    if reward_rnn is None or not same_weights(prior_rnn, reward_rnn):
        return melodies.numpy(), None
    return melodies.numpy(), log_p.numpy()


def compose(model: Model, n: int, length: int = 32, seed: int = 0, batch: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Compose ``n`` melodies from random primers, ``batch`` at a time (docs/spec.md §7; seeding: module docs).

    :param length: notes per melody, for every model.
    :return: ``(primers (n,), melodies (n, length))``.
    """
    primers = draw_primers(n, seed)
    chunks = [compose_chunk(model, primers[s : s + batch], length, seed + 1 + s)[0] for s in range(0, n, batch)]
    return primers, np.concatenate(chunks)


def _lstm_weights(rnn: NoteRNN) -> tuple[torch.Tensor, ...]:
    """``rnn``'s weights for :func:`_block_log_prior`: the input table ``W_ih^T + b`` (A, 4H), ``W_hh^T``
    (H, 4H), ``W_out^T`` (H, A) and ``b_out``, the cell gate's columns doubled so that one sigmoid of
    the gates gives σ(2g), and tanh(g) = 2σ(2g) − 1 as :func:`melody_env.note_rnn.tanh` (doubling is
    exact in floating point)."""
    lstm, head = rnn.lstm, rnn.head
    hidden = lstm.hidden_size
    scale = torch.ones(4 * hidden)
    scale[2 * hidden : 3 * hidden] = 2.0
    table = (lstm.weight_ih_l0.t() + (lstm.bias_ih_l0 + lstm.bias_hh_l0)) * scale
    return table.contiguous(), (lstm.weight_hh_l0.t() * scale).contiguous(), head.weight.t().contiguous(), head.bias


def _block_log_prior(weights: tuple[torch.Tensor, ...], inputs: torch.Tensor, notes: torch.Tensor) -> torch.Tensor:
    """log p(notes | inputs) of a block of melodies, ``inputs`` and ``notes`` (B, T): the LSTM step of
    :func:`sequence_env.lstm.lstm_head_step` over the block, then its output layer on all T steps at once."""
    table, w_hh, w_out, b_out = weights
    (batch, steps), hidden = inputs.shape, w_hh.shape[0]
    inputs = inputs.t().contiguous()
    outputs = torch.empty(steps, batch, hidden)
    h, c = torch.zeros(batch, hidden), torch.zeros(batch, hidden)
    gates = torch.empty(batch, 4 * hidden)
    for t in range(steps):
        sig = torch.index_select(table, 0, inputs[t], out=gates).addmm_(h, w_hh).sigmoid_()
        i, f, g, o = sig.split(hidden, 1)
        c = torch.addcmul(f * c, i, g.mul(2.0).sub_(1.0))
        h = torch.mul(c, 2.0, out=outputs[t]).sigmoid_().mul_(2.0).sub_(1.0).mul_(o)
    logits = torch.addmm(b_out, outputs.view(steps * batch, hidden), w_out).view(steps, batch, -1)
    return torch.log_softmax(logits, -1).gather(2, notes.t()[..., None])[..., 0].t()


@torch.no_grad()
def log_prior(reward_rnn: NoteRNN, primers: np.ndarray, melodies: np.ndarray, batch: int = CHUNK) -> np.ndarray:
    """log p(a_t | s_t) of every note under the Reward RNN, given the primer and the notes before (Eq. 3).

    Equal to ``reward_rnn(inputs)`` (``nn.LSTM``) to float rounding, in about two thirds of its time
    (:func:`_block_log_prior`, ``batch`` melodies at a time: 256 to 1,000 run alike, more run slower).
    Why its own loop: stepping through :func:`agents.step.native.values` instead, the compiled step,
    was measured 15 % slower (20,000 melodies, side by side), as it runs the output layer at every step.
    """
    weights = _lstm_weights(reward_rnn)
    out = np.empty(melodies.shape, dtype=np.float32)
    for start in range(0, len(melodies), batch):
        notes = torch.as_tensor(melodies[start : start + batch], dtype=torch.long)
        first = torch.as_tensor(primers[start : start + batch], dtype=torch.long)
        inputs = torch.cat([first[:, None], notes[:, :-1]], 1)
        out[start : start + batch] = _block_log_prior(weights, inputs, notes).numpy()
    return out


def music_theory(melodies: np.ndarray, key: Key = C_MAJOR, rules: RuleSet = DEFAULT_RULES) -> np.ndarray:
    """rMT of every note when the melodies are composed note by note (docs/spec.md §4), all rows at once."""
    n, length = melodies.shape
    evaluator = RuleEvaluator(n, length=length, key=key, rules=rules)
    return np.stack([evaluator.step(melodies[:, t]).sum(1) for t in range(length)], axis=1)


def _score_chunk(job: _Job, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Melodies of the chunk from ``start`` and their log p (recorded, else one Reward RNN pass)."""
    primers = job.primers[start : start + job.batch]
    melodies, prior = compose_chunk(job.model, primers, job.length, job.seed + 1 + start, job.reward_rnn)
    return melodies, log_prior(job.reward_rnn, primers, melodies) if prior is None else prior


def _score_task(starts: range, job: _Job | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, MelodyScores]:
    """The chunks from ``starts``: melodies, log p, rMT (each (rows, T)) and the Table 1 detectors;
    ``job`` is the worker's by default."""
    job = _JOB if job is None else job
    melodies, prior = (np.concatenate(part) for part in zip(*(_score_chunk(job, s) for s in starts), strict=True))
    return melodies, prior, music_theory(melodies, job.key), score_melodies(melodies, job.key)


def _start_worker(job: _Job) -> None:
    global _JOB
    _JOB = job
    torch.set_num_threads(DEFAULT_TORCH_THREADS)


def _in_workers(job: _Job, tasks: list[range], workers: int) -> list[tuple]:
    """:func:`_score_task` of every task in ``workers`` forked processes.

    Fork hands the job (the models included) to the workers without pickling, in milliseconds (spawn:
    seconds, importing torch again). A parent that owns torch's OpenMP pool is safe to fork from here:
    the workers run one torch thread, so they never enter a parallel region.
    """
    context = mp.get_context("fork")
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(job,)) as pool:
        return list(pool.map(_score_task, tasks))


def worker_count(n: int, workers: int, batch: int = CHUNK) -> int:
    """The processes ``compose_and_score(..., n, workers=workers, batch=batch)`` runs: at most one per task of
    ``TASK_CHUNKS`` chunks, and 1 in a worker process or on a platform without fork (it scores in itself)."""
    if mp.parent_process() is not None or "fork" not in mp.get_all_start_methods():
        return 1
    return max(1, min(workers, -(-n // (TASK_CHUNKS * batch))))


def compose_and_score(
    model: Model,
    reward_rnn: NoteRNN,
    n: int,
    length: int = 32,
    seed: int = 0,
    key: Key = C_MAJOR,
    workers: int = 1,
    batch: int = CHUNK,
) -> Scored:
    """Compose ``n`` melodies with ``model`` and score them (see the module docs), on one torch thread per process.

    :param workers: processes sharing the chunks of ``batch`` melodies (1: this process alone). The
        numbers are the same for any count. A worker process (e.g. of ``rl-tuner reproduce``, which
        already scores one model per core) scores in itself, so nested calls never oversubscribe
        (:func:`worker_count`).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    job = _Job(model, reward_rnn, draw_primers(n, seed), length, seed, key, batch)
    step = TASK_CHUNKS * batch
    tasks = [range(start, min(start + step, n), batch) for start in range(0, n, step)]
    workers = worker_count(n, workers, batch)
    if workers == 1:
        with torch_threads(DEFAULT_TORCH_THREADS):
            parts = [_score_task(task, job) for task in tasks]
    else:
        parts = _in_workers(job, tasks, workers)
    *arrays, detectors = zip(*parts, strict=True)
    melodies, prior, rules = (np.concatenate(part) for part in arrays)
    return Scored(job.primers, melodies, prior, rules, key, MelodyScores.concatenate(detectors))


def summarise(scored: Scored, key: Key = C_MAJOR) -> dict[str, float]:
    """Table 1 statistics plus mean log p(a|s), mean rMT per note and the extra statistics.

    The Table 1 statistics come from ``scored.detectors`` when they were run in ``key``.
    """
    same_key = scored.detectors is not None and scored.key == key
    stats = table1_stats_of(scored.detectors if same_key else score_melodies(scored.melodies, key))
    stats["mean_log_prior"] = float(scored.log_prior.mean())
    stats["mean_music_theory_reward"] = float(scored.music_theory.mean())
    stats.update(extra_stats(scored.melodies))
    return stats


__all__ = [
    "CHUNK",
    "TASK_CHUNKS",
    "Model",
    "Scored",
    "compose",
    "compose_and_score",
    "compose_chunk",
    "draw_primers",
    "log_prior",
    "music_theory",
    "same_weights",
    "summarise",
    "worker_count",
]
