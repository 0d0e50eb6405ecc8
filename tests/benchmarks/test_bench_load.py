"""The load benchmark: its busy process spins and goes away, and a tiny run writes its table (no timings checked)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from benchmarks.speed.bench_load import busy_core, main


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_busy_core_spins_until_the_block_ends() -> None:
    with busy_core() as spinner:
        before = _cpu_seconds(spinner.pid)
        time.sleep(0.5)
        assert spinner.poll() is None and _cpu_seconds(spinner.pid) - before > 0.1  # it computes
    assert spinner.poll() is not None  # killed and reaped
    with busy_core(False) as nothing:
        assert nothing is None


def test_tiny_run_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "load.md"
    threads = torch.get_num_threads()
    argv = ["--num-envs", "4", "--vector-steps", "3", "--train-steps", "64", "--train-envs", "4", "--repeats", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 4
    assert [row.split(" | ")[1] for row in rows] == ["global default threads (torch_threads=None)",
                                                     "defaults (torch_threads=1)"] * 2  # fmt: skip
    assert out.read_text().count("one thread is") == 2  # one comparison per measurement
    assert torch.get_num_threads() == threads
    assert main(["--repeats", "0"]) == 2
