"""The weight c of the KL term, fixed or moved by a proportional controller so that KL tracks a target.

In every tuner the reward is ``rMT/c`` plus the prior's side (``log p``, or ``log p − log π`` for the
policy-gradient agents, paper Eq. 3 and 9), so c weighs staying close to the prior against the rules: a
larger c means a smaller pull of the rules and a policy closer to the prior. :class:`AdaptiveC` follows
Ziegler et al. 2019 (*Fine-Tuning Language Models from Human Preferences*, §2.2): with the policy's KL to
the prior measured per note,

    e = clip(KL / target − 1, −0.2, 0.2),    c ← c · (1 + k_p · e · n / H),

``n`` the notes since the previous update and ``H`` a horizon in notes. KL above the target raises c
(more weight on the prior), KL below lowers it. Ziegler et al. move the coefficient β of the KL penalty
itself; here c divides the rules instead, which is the same ratio of the two terms (c ∝ 1/β up to the
overall scale of the reward). :class:`FixedC` has the same interface and never moves, so a trainer
calls ``controller.update(...)`` the same way for a number and for ``c="auto"``
(:func:`make_c_controller`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

ERROR_CLIP = 0.2


def _positive(value: object, name: str, hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0 ({hint}), got {value!r}")
    return float(value)


def proportional_error(kl_per_note: float, target_kl: float) -> float:
    """Ziegler et al.'s clipped error ``e = clip(KL / target − 1, −0.2, 0.2)``.

    :param kl_per_note: measured KL[π ‖ p] per note (nats). :param target_kl: the target (nats per note).
    """
    return min(max(kl_per_note / target_kl - 1.0, -ERROR_CLIP), ERROR_CLIP)


class FixedC:
    """A constant c, with :class:`AdaptiveC`'s interface (``update`` returns c unchanged).

    :param c: the weight (paper: 0.5).
    """

    def __init__(self, c: float = 0.5) -> None:
        self._c = _positive(c, "c", "paper: 0.5")

    @property
    def c(self) -> float:
        """The current c."""
        return self._c

    def update(self, kl_per_note: float, n_notes: int) -> float:
        """Return c (fixed: the arguments are only checked)."""
        _check_measurement(kl_per_note, n_notes)
        return self._c

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state, for checkpoints."""
        return {"kind": "fixed", "c": self._c}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        _check_kind(state, "fixed")
        self._c = _positive(state["c"], "c", "from a checkpoint")


class AdaptiveC:
    """Proportional controller of c (Ziegler et al. 2019): c moves so that KL per note tracks ``target_kl``.

    c changes by at most a factor ``1 ± 0.2 · k_p`` per ``horizon`` notes: at the defaults (``k_p = 0.1``,
    ``horizon = 1,000``) at most ±2 % per 1,000 notes, so a full-size error moves c by a factor e in
    about 50,000 notes.

    :param c_init: c before the first update (paper: 0.5).
    :param target_kl: the KL[π ‖ p] per note to track, in nats.
    :param horizon: H, notes over which a full ``k_p · e`` step is taken.
    :param k_p: the proportional gain (Ziegler et al.: 0.1).
    """

    def __init__(self, c_init: float = 0.5, target_kl: float = 1.0, horizon: float = 1_000, k_p: float = 0.1) -> None:
        self._c = _positive(c_init, "c_init", "paper: 0.5")
        self.target_kl = _positive(target_kl, "target_kl", "the KL to the prior per note to track, in nats")
        self.horizon = _positive(horizon, "horizon", "notes per full controller step")
        self.k_p = _positive(k_p, "k_p", "Ziegler et al.: 0.1")

    @property
    def c(self) -> float:
        """The current c."""
        return self._c

    def update(self, kl_per_note: float, n_notes: int) -> float:
        """One controller step: ``c ← c · (1 + k_p · e · n / H)``; returns the new c.

        :param kl_per_note: KL[π ‖ p] per note measured over the last ``n_notes`` notes (nats; a sampled
            estimate such as the mean of ``log π(a|s) − log p(a|s)`` may be slightly negative).
        :param n_notes: notes since the previous update (0 leaves c as it is).
        :raises ValueError: a non-finite KL, a negative count, or a step that would make c ≤ 0
            (``n_notes`` too large for ``horizon / k_p``).
        """
        _check_measurement(kl_per_note, n_notes)
        error = proportional_error(float(kl_per_note), self.target_kl)
        factor = 1.0 + self.k_p * error * int(n_notes) / self.horizon
        if factor <= 0:
            raise ValueError(
                f"a controller step over {n_notes} notes would make c negative (k_p={self.k_p}, "
                f"horizon={self.horizon}); update more often or raise horizon above {self.k_p * ERROR_CLIP * n_notes}"
            )
        self._c *= factor
        return self._c

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state, for checkpoints."""
        return {
            "kind": "adaptive",
            "c": self._c,
            "target_kl": self.target_kl,
            "horizon": self.horizon,
            "k_p": self.k_p,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (c and the settings)."""
        _check_kind(state, "adaptive")
        self._c = _positive(state["c"], "c", "from a checkpoint")
        self.target_kl = _positive(state["target_kl"], "target_kl", "from a checkpoint")
        self.horizon = _positive(state["horizon"], "horizon", "from a checkpoint")
        self.k_p = _positive(state["k_p"], "k_p", "from a checkpoint")


CController = FixedC | AdaptiveC


def make_c_controller(
    c: float | str = 0.5,
    target_kl: float | None = None,
    horizon: float = 1_000,
    k_p: float = 0.1,
    c_init: float = 0.5,
) -> CController:
    """:class:`FixedC` for a number, :class:`AdaptiveC` for ``c="auto"``.

    :param c: a number > 0 (fixed), or ``"auto"`` (adaptive; needs ``target_kl``).
    :param target_kl: KL per note to track with ``c="auto"``; must be ``None`` with a fixed c.
    :param horizon: the controller's horizon H in notes. :param k_p: its gain.
    :param c_init: where ``c="auto"`` starts (paper's fixed value: 0.5).
    """
    if isinstance(c, str) and c == "auto":
        if target_kl is None:
            raise ValueError("c='auto' moves c to track a KL target: pass target_kl (nats per note, e.g. 0.5)")
        return AdaptiveC(c_init, target_kl, horizon, k_p)
    if isinstance(c, str):
        raise ValueError(f"c must be a number > 0 or 'auto', got {c!r}")
    if target_kl is not None:
        raise ValueError(f"target_kl is the target of c='auto'; with a fixed c={c!r} drop target_kl or pass c='auto'")
    return FixedC(c)


def controller_from_state(state: dict[str, Any]) -> CController:
    """Rebuild a controller from :meth:`FixedC.state_dict` / :meth:`AdaptiveC.state_dict`."""
    controller = AdaptiveC() if state.get("kind") == "adaptive" else FixedC()
    controller.load_state_dict(state)
    return controller


def _check_measurement(kl_per_note: float, n_notes: int) -> None:
    if isinstance(kl_per_note, bool) or not (isinstance(kl_per_note, Real) and math.isfinite(kl_per_note)):
        raise ValueError(f"kl_per_note must be a finite number (nats per note), got {kl_per_note!r}")
    if isinstance(n_notes, bool) or not isinstance(n_notes, Integral) or n_notes < 0:
        raise ValueError(f"n_notes must be an int >= 0 (notes since the last update), got {n_notes!r}")


def _check_kind(state: dict[str, Any], kind: str) -> None:
    if not isinstance(state, dict) or state.get("kind") != kind:
        got = state.get("kind") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"expected the state of a {kind!r} c controller, got {got!r}")


__all__ = [
    "ERROR_CLIP",
    "AdaptiveC",
    "CController",
    "FixedC",
    "controller_from_state",
    "make_c_controller",
    "proportional_error",
]
