"""Tuners trained in ``multiprocessing`` workers after the parent used torch, each run in a child Python (a hang fails).

A parallel torch op (one above torch's 32,768-element grain, on more than one thread) starts GNU
OpenMP's thread pool, and a forked child inherits the pool's bookkeeping without its threads: the
child's first parallel region waits for them forever (in ``gomp_team_end``). So everything a tuner
does must run on its ``torch_threads`` (one by default), not on the caller's setting: the
constructors copy the Note RNN with parallel copy kernels, and on the caller's threads a script that
trained a tuner and then forked a pool of workers that trained tuners would hang in the workers'
constructors. Every child
here starts with torch's default threads (at least 2), as a user's process does, and checks that
its global setting is unchanged at the end. Forkserver and spawn workers start from a fresh
process and never inherit the pool; they run the same script for comparison.
"""

from __future__ import annotations

import multiprocessing

import pytest

PRELUDE = """
import multiprocessing
import sys

import torch

from agents import KLPPO, Population, RLTuner

torch.set_num_threads(max(torch.get_num_threads(), 2))  # torch's default, and parallel on one core too
THREADS = torch.get_num_threads()
"""

TRAIN_AFTER_TRAINING = """

def job(seed):
    tuner = RLTuner("q", "MelodyCompose-v0", n_envs=8, seed=seed)
    tuner.learn(2000)
    return tuner.num_timesteps


if __name__ == "__main__":
    job(0)  # the parent trains first
    with multiprocessing.get_context(sys.argv[1]).Pool(2) as pool:
        assert pool.map(job, [1, 2]) == [2000, 2000]
    assert torch.get_num_threads() == THREADS
    print("ok")
"""

LOAD_AND_COMPOSE_AFTER_PARALLEL_OP = """
import numpy as np


def job(path):
    tuner = RLTuner.load(path, env="MelodyCompose-v0")
    tuner.learn(800, reset_num_timesteps=False)
    melodies = tuner.generate(2000)  # the LSTM state of 2,000 melodies is above the grain
    probabilities = tuner.next_note_probabilities(melodies[0], 0)
    fresh = RLTuner("q", "MelodyCompose-v0", n_envs=8, seed=2)
    fresh.set_parameters(path)
    kl = KLPPO(env="MelodyCompose-v0", n_envs=2, n_steps=tuner.max_length, batch_size=8, seed=3)
    kl.learn(2 * tuner.max_length)
    kl.generate(2000)
    Population([RLTuner("psi", "MelodyCompose-v0", n_envs=8, seed=s) for s in (4, 5)]).learn(400)
    return tuner.num_timesteps, melodies.shape, probabilities.shape


if __name__ == "__main__":
    tuner = RLTuner("q", "MelodyCompose-v0", n_envs=8, seed=0)
    tuner.learn(800)
    path = str(tuner.save(sys.argv[2]))
    (torch.randn(512, 512) @ torch.randn(512, 512)).sum()  # the caller's own torch code
    (torch.randn(1_000_000) * 2.0).sum()  # this process now owns torch's OpenMP pool
    with multiprocessing.get_context(sys.argv[1]).Pool(1) as pool:
        [(steps, shape, probabilities)] = pool.map(job, [path])
    assert steps == 1600 and shape == (2000, tuner.max_length) and probabilities == (tuner.max_length, 38)
    assert torch.get_num_threads() == THREADS
    print("ok")
"""


def _skip_without(context: str) -> None:
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} start method here")


@pytest.mark.parametrize("context", ["fork", "forkserver", "spawn"])
def test_workers_train_after_the_parent_trained(context, tmp_path, run_python):
    # A script file, not -c: spawn and forkserver workers re-import the main script to find `job`.
    _skip_without(context)
    script = tmp_path / "train.py"
    script.write_text(PRELUDE + TRAIN_AFTER_TRAINING)
    assert run_python([str(script), context], cwd=tmp_path).strip() == "ok"


@pytest.mark.parametrize("context", ["fork"])
def test_forked_workers_load_train_and_compose_after_the_parents_parallel_op(context, tmp_path, run_python):
    # The parent owns the pool through its own torch code, so whichever tuner call a forked worker
    # makes first must not run a parallel region: load (and its set_env), learn, generate,
    # next_note_probabilities, the constructor and set_parameters, KLPPO's constructor, learn and
    # generate, and a Population's learn. Only fork inherits the pool.
    _skip_without(context)
    script = tmp_path / "compose.py"
    script.write_text(PRELUDE + LOAD_AND_COMPOSE_AFTER_PARALLEL_OP)
    assert run_python([str(script), context, str(tmp_path / "tuner.zip")], cwd=tmp_path).strip() == "ok"
