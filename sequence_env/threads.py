"""Torch threads for the project's tiny networks: one thread inside the project's calls, the caller's outside.

A 100-cell LSTM step is too small to split across cores: intra-op threads only add synchronisation,
and when another process keeps a core busy every parallel region waits for a descheduled thread
(training ran 5-87x slower with torch's default threads on a busy 2-core machine). A parent process
that has run a parallel region also owns an OpenMP pool that does not survive ``fork``; its children
deadlock in their first parallel region. So the env, the tuners and the scoring run their torch work
inside :func:`torch_threads` (one thread by default) and give the caller's setting back afterwards:
the caller's own torch code keeps its global ``torch.set_num_threads``. Pass ``torch_threads=None``
to an env or a tuner to run on the global setting instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

DEFAULT_TORCH_THREADS = 1


def check_torch_threads(threads: int | None) -> int | None:
    """Return ``threads`` if it is ``None`` or a positive int, else raise ``ValueError`` naming the fix."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"torch_threads must be a positive int, or None for torch's global setting, got {threads!r}")
    return threads


@contextmanager
def torch_threads(threads: int | None = DEFAULT_TORCH_THREADS) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)`` and restore the previous count after it.

    Switching is cheap, so it wraps every env step and every gradient batch.

    :param threads: threads for the block; ``None`` leaves the global setting alone.
    """
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    if previous == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


__all__ = ["DEFAULT_TORCH_THREADS", "check_torch_threads", "torch_threads"]
