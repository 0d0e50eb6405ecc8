"""Env ids in worker processes: a package that registers an id adds itself to the forkserver's preload list."""

from __future__ import annotations

import multiprocessing


def preload_in_forkserver(module: str) -> None:
    """Append ``module`` to the forkserver's preload list, keeping the modules already in it.

    Gymnasium 1.x has no plugin entry points, so a worker knows an id such as ``MelodyCompose-v0`` only once
    it has imported the package that registers it; the forkserver imports its preload list once, and every
    worker it forks inherits the registration. multiprocessing has a setter but no getter for the list,
    hence the read of its private attribute (``["__main__"]`` is the default if it ever goes away). It
    takes effect if the forkserver has not started yet.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    current = list(getattr(forkserver._forkserver, "_preload_modules", None) or ["__main__"])
    if module not in current:
        multiprocessing.set_forkserver_preload([*current, module])


__all__ = ["preload_in_forkserver"]
