"""The env in real worker processes, each scenario in a child Python with a timeout (a hang fails).

Every child starts with torch's default threads (at least 2) and runs a parallel torch op first, so
it owns torch's OpenMP pool before it starts workers, as a user's process does: a forked worker
that enters a parallel region deadlocks. Then it steps the workers and the synchronous env with the
same seed and actions and checks that observations and rewards are equal.
"""

from __future__ import annotations

import multiprocessing
import os
import textwrap

import pytest

PRELUDE = """
import numpy as np
import torch

import melody_env  # noqa: F401 - registers MelodyCompose-v0

torch.set_num_threads(max(torch.get_num_threads(), 2))  # torch's default, and parallel on one core too
THREADS = torch.get_num_threads()
(torch.randn(512, 512) @ torch.randn(512, 512)).sum()
(torch.randn(1_000_000) * 2.0).sum()  # this process now owns torch's OpenMP pool
LENGTH = 4
ACTIONS = np.random.default_rng(0).integers(0, 38, (2 * LENGTH + 2, 2))


def same(a, b):
    for key in ("note", "position"):
        np.testing.assert_array_equal(a[key], b[key])
    for key in ("h", "c"):
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-6)
"""

GYMNASIUM = """
import gymnasium as gym


def run(mode, **vector_kwargs):
    envs = gym.make_vec("MelodyCompose-v0", num_envs=2, vectorization_mode=mode, vector_kwargs=vector_kwargs,
                        melody_length=LENGTH)
    rows = [envs.reset(seed=7)[0]]
    rows += [envs.step(actions)[:2] for actions in ACTIONS]
    envs.close()
    return rows


workers, sync = run("async", context={context!r}), run("sync")
same(workers[0], sync[0])
for (obs_a, reward_a), (obs_b, reward_b) in zip(workers[1:], sync[1:], strict=True):
    same(obs_a, obs_b)
    np.testing.assert_allclose(reward_a, reward_b, rtol=0, atol=1e-5)
assert torch.get_num_threads() == THREADS
print("ok")
"""

SB3 = """
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv


def run(vec_env_cls, **vec_env_kwargs):
    envs = make_vec_env("MelodyCompose-v0", n_envs=2, vec_env_cls=vec_env_cls, vec_env_kwargs=vec_env_kwargs,
                        env_kwargs={{"melody_length": LENGTH}})  # the bare id: each worker looks it up
    envs.seed(7)
    rows = [envs.reset()]
    rows += [envs.step(actions)[:2] for actions in ACTIONS]
    envs.close()
    return rows


def main():
    workers, dummy = run(SubprocVecEnv, {start_method}), run(DummyVecEnv)
    same(workers[0], dummy[0])
    for (obs_a, reward_a), (obs_b, reward_b) in zip(workers[1:], dummy[1:], strict=True):
        same(obs_a, obs_b)
        np.testing.assert_allclose(reward_a, reward_b, rtol=0, atol=1e-5)
    assert torch.get_num_threads() == THREADS
    print("ok")


if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("context", ["fork", "forkserver", "spawn"])
def test_gymnasium_async_workers_equal_the_sync_env(context, run_python):
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} start method here")
    script = PRELUDE + GYMNASIUM.format(context=context)
    assert run_python(["-c", script]).strip() == "ok"


@pytest.mark.parametrize("start_method", [None, "fork"], ids=["default", "fork"])
def test_sb3_subproc_workers_know_the_bare_id(start_method, run_python):
    # Run with -c: no main script for the workers to re-import, so only the forkserver preload
    # (SB3's default start method) or fork's copy of the parent can tell them the id.
    if start_method == "fork" and "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method here")
    kwargs = "" if start_method is None else f"start_method={start_method!r}"
    script = PRELUDE + SB3.format(start_method=kwargs)
    assert run_python(["-c", script]).strip() == "ok"


def test_spawn_workers_of_a_script_that_imports_melody_env(tmp_path, run_python):
    # Spawn workers re-import the main script, whose top-level `import melody_env` registers the id.
    script = tmp_path / "train.py"
    script.write_text(PRELUDE + SB3.format(start_method="start_method='spawn'"))
    assert run_python([str(script)], cwd=tmp_path).strip() == "ok"


def test_forkserver_preload_keeps_what_was_there(run_python):
    code = textwrap.dedent("""
        import multiprocessing
        from multiprocessing import forkserver
        multiprocessing.set_forkserver_preload(["__main__", "json"])
        import melody_env
        import importlib
        importlib.reload(melody_env)  # importing again adds nothing
        print(forkserver._forkserver._preload_modules)
    """)
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver start method here")
    assert run_python(["-c", code]).strip() == "['__main__', 'json', 'sequence_env', 'melody_env']"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_the_env_leaves_no_openmp_pool_to_break_a_fork(run_python):
    # Load the shipped checkpoint, build and step every env form with torch's default threads, then
    # fork: the forked child's parallel torch op deadlocks if any of that created the OpenMP pool.
    code = textwrap.dedent("""
        import os, time
        import gymnasium as gym
        import numpy as np
        import torch
        import melody_env
        from melody_env.note_rnn import DEFAULT_CHECKPOINT, NoteRNN, load_default_note_rnn
        from melody_env.sb3_vec_env import MelodySB3VecEnv

        torch.set_num_threads(max(torch.get_num_threads(), 2))
        threads = torch.get_num_threads()
        load_default_note_rnn(), NoteRNN.load(DEFAULT_CHECKPOINT)
        env = gym.make("MelodyCompose-v0")
        env.reset(seed=0)
        for _ in range(32):
            env.step(14)
        envs = gym.make_vec("MelodyCompose-v0", num_envs=256)
        envs.reset(seed=0)
        for _ in range(33):
            envs.step(np.full(256, 14))
        sb3 = MelodySB3VecEnv(num_envs=4)
        sb3.reset()
        sb3.step(np.full(4, 14))
        assert torch.get_num_threads() == threads
        pid = os.fork()
        if pid == 0:
            (torch.randn(512, 512) @ torch.randn(512, 512)).sum()
            (torch.randn(1_000_000) * 2.0).sum()
            os._exit(0)
        for _ in range(400):
            if os.waitpid(pid, os.WNOHANG)[0]:
                print("ok")
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            print("the forked child deadlocked: the parent owned an OpenMP pool")
    """)
    assert run_python(["-c", code]).strip() == "ok"
