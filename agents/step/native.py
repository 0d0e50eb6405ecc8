"""The gradient step compiled: ``agents/step/csrc/gradient_steps.cpp``, built with torch's C++ extension tools.

:func:`gradient_steps` runs the S gradient steps owed after a vector step, for K agents, in one call.
It gives the numbers of :func:`agents.step.update.gradient_step` to float rounding (tested), at about a third
of its cost: the Python step is some sixty small tensor operations whose per-call overhead, not their
arithmetic, set its cost.

The library is built once per source version into torch's extension cache (``$TORCH_EXTENSIONS_DIR``,
by default ``~/.cache/torch_extensions``): by :func:`main`, which ``make`` runs at install,
or else on first use. Where it cannot be built (no C++ compiler), the tuners use the Python step and say
so once in a warning. ``RL_TUNER_NATIVE=0`` turns the compiled step off.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
    folder per Python and torch version."""
    from torch.utils import cpp_extension

    root = os.environ.get("TORCH_EXTENSIONS_DIR") or cpp_extension.get_default_build_root()
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path(root) / f"rl_tuner_native_{python}_torch{torch.__version__}"


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


@contextmanager
def python_step() -> Iterator[None]:
    """Train with the Python step inside the block (``RL_TUNER_NATIVE=0``), e.g. to compare the two."""
    before = os.environ.get("RL_TUNER_NATIVE")
    os.environ["RL_TUNER_NATIVE"] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["RL_TUNER_NATIVE"]
        else:
            os.environ["RL_TUNER_NATIVE"] = before


def _require() -> None:
    if not available():
        raise RuntimeError(
            "the compiled gradient step is not built (see the warning above); use agents.step.update instead"
        )


def enabled() -> bool:
    """Whether training uses the compiled step: built, and not turned off by ``RL_TUNER_NATIVE=0``."""
    return os.environ.get("RL_TUNER_NATIVE", "1") != "0" and available()


@torch.no_grad()
def gradient_steps(stack: Stack, settings: StepSettings, fields: list[Tensor | None]) -> Tensor:
    """S steps of :func:`agents.step.update.gradient_step` for K agents, one after the other, in one call.

    :param stack: the agents' tensors, updated in place.
    :param fields: ``(note, h, c, action, log_prior, music_theory, done, next_log_prior)``, each with leading
        dims ``(S, K, B)``, as the replay buffers sample them.
    :return: ``(S, K, 3)``: loss, gradient norm before clipping and mean value of the actions taken.
    """
    _require()
    note, h, c, action, log_prior, music_theory, done, next_log_prior = (
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
        c,
        action,
        log_prior,
        music_theory,
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
def step_values(theta: Tensor, notes: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """:func:`agents.step.stacked.stacked_values` of K networks ``theta (K, P)`` on ``notes (K, N)`` from
    ``h, c (K, N, H)``: all values ``(K, N, A)`` and the new state."""
    _require()
    values, h1, c1 = torch.ops.rl_tuner.step_values(
        theta.contiguous(), notes.contiguous(), h.contiguous(), c.contiguous(), h.shape[-1]
    )
    return values, (h1, c1)


def values(
    theta: Tensor, params: list[Tensor], notes: Tensor, h: Tensor, c: Tensor
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM step of K networks ``theta (K, P)`` (``params``: its views, :func:`agents.step.stacked.split`)
    on ``notes (K, N)``: all values ``(K, N, A)`` and the new state; compiled when :func:`enabled`, else
    :func:`agents.step.stacked.stacked_values` (the same numbers to float rounding)."""
    if enabled():
        return step_values(theta, notes, h, c)
    return stacked_values(params, notes, h, c)


def main() -> int:
    """Build the library now (``make`` runs this at install); print where it stands."""
    start = time.perf_counter()
    if not available():
        print("the compiled gradient step is not available; training will use the Python step")
        return 0
    print(f"compiled gradient step ready ({time.perf_counter() - start:.1f} s)")
    return 0


__all__ = ["available", "build_directory", "enabled", "gradient_steps", "python_step", "step_values", "values"]
