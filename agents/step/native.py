"""The gradient step compiled: ``agents/step/csrc/gradient_steps.cpp``, built with torch's C++ extension tools.

:func:`gradient_steps` runs the S gradient steps owed after a vector step, for K agents, in one call.
It gives the numbers of :func:`agents.step.update.gradient_step` to float rounding (tested), at about a third
of its cost: the Python step is some sixty small tensor operations whose per-call overhead, not their
arithmetic, set its cost.

The library is built once per source version into torch's extension cache (``$TORCH_EXTENSIONS_DIR``,
by default ``~/.cache/torch_extensions``): by :func:`main`, which ``make`` runs at install,
or else on first use. Where it cannot be built (no C++ compiler), the tuners use the Python step and say
so once in a warning. It serves the one-layer LSTM it is written for (:func:`agents.step.stacked.is_fast_lstm`);
a tuner chooses it with its ``compiled_step`` argument (:func:`use_compiled`), whose default follows
``RL_TUNER_NATIVE`` (``0``: off). The library checks the shapes and token ids it is given, so bad input is an
error, not an out-of-bounds read.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from functools import cache
from pathlib import Path

import torch
from torch import Tensor

from agents.step.stacked import stacked_values
from agents.step.update import CLIP_MODES, Stack, StepSettings

SOURCE = Path(__file__).parent / "csrc" / "gradient_steps.cpp"
ALGORITHM_CODES = {"q": 0, "psi": 1, "g": 2, "rl_only": 3}
"""The C++ enum ``Algorithm``."""


STALE_LOCK_SECONDS = 600.0
"""A build lock older than this was left by a build that was interrupted (a build takes about 15 s)."""


def _build() -> None:
    """Compile (or find already compiled) the library and register ``torch.ops.rl_tuner``."""
    import ninja  # the build tool, from PyPI: put it on PATH, where torch looks for it
    from torch.utils import cpp_extension

    os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
    folder = build_directory()
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_lock(folder / "lock")
    cpp_extension.load(
        name="rl_tuner_native",
        sources=[str(SOURCE)],
        extra_cflags=["-O3", "-fno-math-errno"],  # -fno-math-errno: sqrt vectorises (errno is never read)
        build_directory=str(folder),
        is_python_module=False,
        verbose=False,
    )


def build_directory() -> Path:
    """Where the library is built: under ``$TORCH_EXTENSIONS_DIR`` (or torch's default extension root), one
    folder per CPU architecture, Python and torch version (a shared home folder may serve several machines)."""
    from torch.utils import cpp_extension

    root = os.environ.get("TORCH_EXTENSIONS_DIR") or cpp_extension.get_default_build_root()
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(root) / f"rl_tuner_native_{platform.machine()}_{python}_torch{torch.__version__}"


def _remove_stale_lock(lock: Path) -> None:
    """Delete the build lock an interrupted build left behind: torch would wait for it forever."""
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return
    if age > STALE_LOCK_SECONDS:
        warnings.warn(f"removing {lock}, left {age:.0f} s ago by an interrupted build", RuntimeWarning, stacklevel=3)
        lock.unlink(missing_ok=True)


@cache
def available() -> bool:
    """Whether the compiled step is built (building it here on first call); warns once when it cannot be."""
    try:
        _build()
    except Exception as error:  # any build failure: the Python step gives the same numbers
        lines = str(error).splitlines() or [type(error).__name__]
        reason = next((line for line in lines if "error:" in line), lines[-1])[:300]
        warnings.warn(
            f"the compiled gradient step could not be built ({reason}); "
            "training uses the Python step, about 3x slower. Install a C++ compiler (e.g. g++) to build it.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


def _require() -> None:
    if not available():
        raise RuntimeError(
            "the compiled gradient step is not built (see the warning above); use agents.step.update instead"
        )


def use_compiled(setting: bool | None, fast_lstm: bool) -> bool:
    """Whether a tuner runs the compiled step.

    :param setting: the tuner's ``compiled_step``: ``None`` uses it where it is built and ``RL_TUNER_NATIVE`` is
        not ``0``; ``True`` requires it; ``False`` runs the Python step.
    :param fast_lstm: whether the tuner's network is the one-layer LSTM the library is written for.
    :raises ValueError: ``True`` for another network, or ``True`` where the library cannot be built.
    """
    if setting is not None and not isinstance(setting, bool):
        raise ValueError(f"compiled_step must be None (automatic), True or False, got {setting!r}")
    if not fast_lstm:
        if setting:
            raise ValueError("compiled_step=True needs a one-layer LSTM prior; other priors train with autograd")
        return False
    if setting is None:
        return os.environ.get("RL_TUNER_NATIVE", "1") != "0" and available()
    if setting and not available():
        raise ValueError("compiled_step=True, but the compiled step cannot be built here (see the warning)")
    return setting


@torch.no_grad()
def gradient_steps(stack: Stack, settings: StepSettings, fields: list[Tensor | None]) -> Tensor:
    """S steps of :func:`agents.step.update.gradient_step` for K agents, one after the other, in one call.

    :param stack: the agents' tensors, updated in place.
    :param fields: ``(note, h, cell, action, log_prior, reward_terms, done, next_log_prior)``, each with leading
        dims ``(S, K, B)``, as the replay buffers sample them (:meth:`agents.buffer.ReplayBatch.flat`).
    :return: ``(S, K, 3)``: loss, gradient norm before clipping and mean value of the actions taken.
    """
    _require()
    note, h, cell, action, log_prior, reward_terms, done, next_log_prior = (
        None if f is None else f.contiguous() for f in fields
    )
    algorithms = torch.tensor([ALGORITHM_CODES[a] for a in settings.algorithms], dtype=torch.int64)
    if settings.clip not in CLIP_MODES:
        raise ValueError(f"clip must be one of {CLIP_MODES}, got {settings.clip!r}")
    return torch.ops.rl_tuner.gradient_steps(
        stack.theta,
        stack.target,
        stack.grad,
        stack.adam.exp_avg,
        stack.adam.exp_avg_sq,
        stack.adam.steps,
        note,
        h,
        cell,
        action,
        log_prior,
        reward_terms,
        done,
        next_log_prior,
        algorithms,
        settings.c.reshape(-1).to(torch.float32).contiguous(),
        stack.params[1].shape[2],
        settings.gamma,
        settings.tau,
        settings.learning_rate,
        settings.max_grad_norm,
        settings.clip == "per_tensor",
        settings.bootstrap_last_note,
        settings.betas[0],
        settings.betas[1],
        settings.eps,
    )


@torch.no_grad()
def step_values(theta: Tensor, notes: Tensor, h: Tensor, cell: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """:func:`agents.step.stacked.stacked_values` of K networks ``theta (K, P)`` on ``notes (K, N)`` from
    ``h, cell (K, N, H)``: all values ``(K, N, A)`` and the new state."""
    _require()
    values, h1, cell1 = torch.ops.rl_tuner.step_values(
        theta.contiguous(), notes.contiguous(), h.contiguous(), cell.contiguous(), h.shape[-1]
    )
    return values, (h1, cell1)


def values(
    theta: Tensor, params: list[Tensor], notes: Tensor, h: Tensor, cell: Tensor, compiled: bool
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM step of K networks ``theta (K, P)`` (``params``: its views, :func:`agents.step.stacked.split`)
    on ``notes (K, N)``: all values ``(K, N, A)`` and the new state; compiled when ``compiled``, else
    :func:`agents.step.stacked.stacked_values` (the same numbers to float rounding)."""
    if compiled:
        return step_values(theta, notes, h, cell)
    return stacked_values(params, notes, h, cell)


def main() -> int:
    """Build the library now (``make`` runs this at install); print where it stands."""
    start = time.perf_counter()
    if not available():
        print("the compiled gradient step is not available; training will use the Python step")
        return 0
    print(f"compiled gradient step ready ({time.perf_counter() - start:.1f} s)")
    return 0


__all__ = ["available", "build_directory", "gradient_steps", "step_values", "use_compiled", "values"]
