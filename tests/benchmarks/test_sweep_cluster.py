"""Sweeps on a real Ray cluster: a separate ``ray start --head`` on loopback, reached with ``--address``.

The head runs with token authentication (this module's own token) in its own process session (``ray start --block``), on free ports and a temporary folder,
and is torn down with its whole process group at the end. The tiny sweep it runs must give the summary
of the same sweep on the embedded local Ray; a trial whose worker is killed mid-way is retried, and the
sweep ends with every seed once.
"""

from __future__ import annotations

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

from benchmarks.sweep.engine import MAX_FAILURES

RAY = Path(sys.executable).with_name("ray")
RL_TUNER = Path(sys.executable).with_name("rl-tuner")
TINY = ["--algorithms", "q", "--seeds", "2", "--seeds-per-trial", "2", "--steps", "320", "--melodies", "40",
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
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
        except ProcessLookupError:
            pass


def _sweep(*flags: str, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([str(RL_TUNER), "sweep", *flags], env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_sweep_on_a_cluster_equals_the_local_sweep(head: tuple[str, int], tmp_path: Path) -> None:
    address, _ = head
    _sweep(*TINY, "--out", str(tmp_path / "cluster"), "--address", address)
    _sweep(*TINY, "--out", str(tmp_path / "local"), "--cpus", "2")
    cluster, local = _summary(tmp_path / "cluster"), _summary(tmp_path / "local")
    assert set(cluster["cells"]) == {"note_rnn", "q/c=0.5"} and cluster["failed"] == []
    assert cluster["cells"] == local["cells"] and cluster["differences"] == local["differences"]
    assert cluster["commits"] == local["commits"] and sum(cluster["commits"].values()) == 4
    provenance = json.loads((tmp_path / "cluster" / "provenance.json").read_text())
    assert provenance["command"].endswith(f"--address {address}") and provenance["wall_seconds"] > 0


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


def test_a_killed_trial_is_retried_and_counted_once(head: tuple[str, int], tmp_path: Path) -> None:
    assert MAX_FAILURES >= 1
    address, group = head
    out = tmp_path / "killed"
    seed = out / "trials" / "q" / "c=0.5" / "seed_0"
    flags = ["--algorithms", "q", "--seeds", "1", "--steps", "20000", "--melodies", "40", "--n-envs", "32"]
    sweep = subprocess.Popen([str(RL_TUNER), "sweep", *flags, "--out", str(out), "--address", address], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline, worker = time.monotonic() + 60, None
        while worker is None and time.monotonic() < deadline and sweep.poll() is None:
            worker = _holder((seed / "progress.csv").resolve(), group) if (seed / "progress.csv").exists() else None
            time.sleep(0.05)
        assert worker is not None, "no worker was seen training the trial"
        assert not (seed / "stats.json").exists()  # killed mid-way: the seed has not finished
        os.kill(worker, signal.SIGKILL)
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, stderr[-2000:]
    summary = _summary(out)
    assert summary["failed"] == [] and summary["cells"]["q/c=0.5"]["n_seeds"] == 1
    assert summary["cells"]["q/c=0.5"]["seeds"] == [0] and summary["commits"] == {
        next(iter(summary["commits"])): 2}  # fmt: skip
    assert "[sweep] 2/2 trials done" in stdout and "failed" not in stdout
    header, *rows = (seed / "progress.csv").read_text().splitlines()
    column = header.split(",").index("time/total_timesteps")
    totals = [int(float(r.split(",")[column])) for r in rows]
    assert totals and totals == sorted(totals) and totals[-1] <= 20_000  # one run's log, not two appended
