"""Sweeps on a real Ray cluster: a separate ``ray start --head`` on loopback, reached with ``--address``.

The head runs with token authentication (this module's own token) in its own process session
(``ray start --block``), on free ports and a temporary folder, and is torn down with its whole process group
at the end. A tiny sweep runs on it through ``rl-tuner sweep --address``; its trial's worker is killed mid-way,
Tune retries the trial, and the summary must equal that of the same sweep on the embedded local Ray: every
seed once, none lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.sweep.cli import build_parser, config_from_args
from benchmarks.sweep.engine import MAX_FAILURES
from benchmarks.sweep.runner import run_sweep

RAY = Path(sys.executable).with_name("ray")
RL_TUNER = Path(sys.executable).with_name("rl-tuner")
STEPS = 6_000
TINY = ["--algorithms", "q", "--seeds", "2", "--seeds-per-trial", "2", "--steps", str(STEPS), "--melodies", "40",
        "--n-envs", "32"]  # fmt: skip
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RL_TUNER_TRACEBACK": "1", "RAY_AUTH_MODE": "token",
       "RAY_AUTH_TOKEN": secrets.token_hex(32), "RL_TUNER_NATIVE": "0"}  # fmt: skip
"""Token authentication, as ``ray start`` runs by default, with this module's own token (``~/.ray`` untouched).
The Python gradient step: a worker killed while torch loads the compiled step would leave torch's build lock
behind, which the next load waits out (``agents.step.native.STALE_LOCK_SECONDS``)."""
PORT_FLAGS = ("--port", "--ray-client-server-port", "--dashboard-port", "--dashboard-agent-listen-port",
              "--dashboard-agent-grpc-port", "--runtime-env-agent-port", "--metrics-export-port",
              "--object-manager-port", "--node-manager-port")  # fmt: skip

pytestmark = pytest.mark.skipif(not RAY.exists(), reason="the ray command line is not installed (.[sweep])")


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def head() -> Iterator[tuple[str, int]]:
    """``(address, process group)`` of a two-CPU Ray head on loopback, stopped with its group afterwards."""
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    ports = _free_ports(len(PORT_FLAGS))
    flags = [str(x) for pair in zip(PORT_FLAGS, ports, strict=True) for x in pair]
    command = [str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "2",
               "--temp-dir", folder, "--include-dashboard", "false", "--disable-usage-stats", *flags]  # fmt: skip
    process = subprocess.Popen(command, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(ports[0]):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ray start --head did not come up (exit code {process.poll()})")
            time.sleep(0.2)
        time.sleep(1.0)  # the raylet registers just after the GCS answers
        yield f"127.0.0.1:{ports[0]}", process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _holder(path: Path, group: int) -> int | None:
    """The Ray worker of the head (its parent, the raylet, is in the head's process group; the worker has a
    session of its own) that has ``path`` open: the trial's worker writing its training log."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(_parent(int(proc.name))) != group:
                continue
            if any(os.readlink(fd) == str(path) for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except (OSError, ProcessLookupError):
            continue
    return None


def _kill_mid_way(sweep: subprocess.Popen, seed: Path, group: int) -> None:
    """Kill the worker training ``seed`` as soon as it writes its training log, before the seed finishes."""
    deadline, worker = time.monotonic() + 60, None
    while worker is None and time.monotonic() < deadline and sweep.poll() is None:
        worker = _holder((seed / "progress.csv").resolve(), group) if (seed / "progress.csv").exists() else None
        time.sleep(0.05)
    assert worker is not None, "no worker was seen training the trial"
    assert not (seed / "stats.json").exists()  # mid-way: the seed has not finished
    os.kill(worker, signal.SIGKILL)


def test_cluster_sweep_retries_a_killed_trial_and_equals_the_local_sweep(
    head: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MAX_FAILURES >= 1
    address, group = head
    out, local = tmp_path / "cluster", tmp_path / "local"
    seed = out / "trials" / "q" / "c=0.5" / "seed_0"
    command = [str(RL_TUNER), "sweep", *TINY, "--out", str(out), "--address", address]
    sweep = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _kill_mid_way(sweep, seed, group)
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, stderr[-2000:]
    assert "[sweep] 2/2 trials done" in stdout and "failed" not in stdout  # retried, not failed
    assert "Trial task failed" in stderr  # Tune saw the worker die

    monkeypatch.setenv("RL_TUNER_NATIVE", "0")  # the embedded Ray's workers inherit it (and Ray's own defaults)
    run_sweep(config_from_args(build_parser().parse_args([*TINY, "--out", str(local), "--cpus", "2"])), "local",
              write=lambda line: None)  # fmt: skip
    cluster, alone = (json.loads((folder / "summary.json").read_text()) for folder in (out, local))
    assert set(cluster["cells"]) == {"note_rnn", "q/c=0.5"} and cluster["failed"] == []
    assert cluster["cells"]["q/c=0.5"]["seeds"] == [0, 1]  # each seed once: nothing lost, nothing twice
    assert cluster["cells"] == alone["cells"] and cluster["differences"] == alone["differences"]
    assert cluster["commits"] == alone["commits"] and sum(cluster["commits"].values()) == 4

    header, *rows = (seed / "progress.csv").read_text().splitlines()
    column = header.split(",").index("time/total_timesteps")
    totals = [int(float(r.split(",")[column])) for r in rows]
    assert totals and totals == sorted(totals) and STEPS <= totals[-1] < STEPS + 32  # one run's log
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["command"].endswith(f"--address {address}") and provenance["wall_seconds"] > 0
