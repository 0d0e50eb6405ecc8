"""Suite-wide settings: the networks are tiny, and one torch thread per process is fastest for them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

CHILD_TIMEOUT = 120  # seconds; each child the tests start takes a few on 2 cores


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run_python(args: list[str], cwd: Path | None = None) -> str:
    """Run ``python args`` in its own process group; kill the whole group (workers too) on timeout."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the child hung for {CHILD_TIMEOUT} s and was killed; stderr:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    return out


@pytest.fixture
def run_python() -> Callable[..., str]:
    """``run_python(args, cwd=None)``: a child Python with torch's thread settings unset, its stdout; a hang fails."""
    return _run_python
