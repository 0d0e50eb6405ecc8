"""K tuners trained in lock-step in one process, with stacked weights (one batched product serves all K).

:class:`LockStep` holds the ``(K, P)`` tensors of K :class:`~agents.tuner.RLTuner` members — weights,
target networks, Adam's moments — and runs their two batched parts of a training step: one recurrent
step of the K Q networks, and the gradient steps owed (one :func:`agents.step.update.gradient_step`, or
its compiled form, over the K members; torch's autograd for priors other than the one-layer LSTM).
Every operation acts on each row alone, so each member is the run it would be alone with its seed
(tested against solo runs). ``RLTuner.learn`` is a lock-step of one; a :class:`Population` is K::

    from agents import Population, RLTuner

    tuners = [RLTuner("q", "MelodyCompose-v0", seed=s) for s in range(8)]
    Population(tuners).learn(200_000)
    tuners[3].save("q_seed3.zip")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from agents.step import native
from agents.step.autograd import PriorStep, autograd_gradient_step
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from agents.training_state import GoodState
from sequence_env.threads import torch_threads

# Hyperparameters the lock-step needs equal across members (one gradient-step schedule, one Adam call).
SHARED = ("batch_size", "train_freq", "learning_starts", "learning_rate", "gamma", "tau", "max_grad_norm")


class LockStep:
    """The stacked tensors of K tuners and the batched parts of their training step (module docs).

    Built at the start of a ``learn``: each member is bound to its row (its networks' parameters and Adam's
    moments become views of the stack), so the members' own objects see every update.
    """

    def __init__(self, tuners: Sequence[Any]) -> None:
        self.tuners = list(tuners)
        first = self.tuners[0]
        networks = first.networks
        theta = torch.stack([t.networks.theta for t in self.tuners])
        target = torch.stack([t.networks.target for t in self.tuners])
        adam = AdamState(
            torch.stack([t.adam.exp_avg for t in self.tuners]),
            torch.stack([t.adam.exp_avg_sq for t in self.tuners]),
            [t.adam.steps[0] for t in self.tuners],
        )
        for k, tuner in enumerate(self.tuners):
            tuner.networks.bind(theta[k], target[k])
            tuner.adam = AdamState(adam.exp_avg[k], adam.exp_avg_sq[k], [adam.steps[k]])
        self.stack = Stack(theta, target, adam, networks.layout)
        self.fast_lstm, self.compiled = networks.fast_lstm, networks.compiled
        self.prior_step = None if self.fast_lstm else PriorStep(networks.q_net)
        self.good = GoodState(lambda: [theta, target, adam.exp_avg, adam.exp_avg_sq, *adam.steps])
        self.settings = StepSettings(
            algorithms=tuple(t.algorithm for t in self.tuners),
            c=torch.zeros(len(self.tuners), 1),
            **{name: getattr(first, name) for name in SHARED[3:]},
            clip=first.clip,
            bootstrap_last_note=first.bootstrap_last_note,
        )

    def values(self) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
        """One recurrent step of the K Q networks on each member's last tokens: values ``(K, N, A)``, new states."""
        tuners = self.tuners
        tokens = torch.stack([t._last_tokens() for t in tuners])  # (K, N)
        if self.fast_lstm:
            h = torch.stack([t._state[0] for t in tuners])
            cell = torch.stack([t._state[1] for t in tuners])
            values, (h1, cell1) = native.values(self.stack.theta, self.stack.params, tokens, h, cell, self.compiled)
            return values, [(h1[k], cell1[k]) for k in range(len(tuners))]
        steps = [t.networks.values(tokens[k], t._state) for k, t in enumerate(tuners)]
        return torch.stack([values for values, _ in steps]), [state for _, state in steps]

    def train(self) -> None:
        """The gradient steps owed (the same number for every member), batched over the members.

        :raises NaNLossError: a member's loss or gradient became NaN/inf; every member is restored to the last
            good state (the failing member's is written to its ``nan_checkpoint_path`` when set).
        """
        tuners, stack, settings = self.tuners, self.stack, self.settings
        owed = [t._owed_gradient_steps() for t in tuners]
        steps = owed[0]
        if steps == 0:
            return
        settings.c = torch.tensor([[t.c] for t in tuners], dtype=torch.float32)
        settings.learning_rate = tuners[0].current_learning_rate
        batches = [t.replay_buffer.sample(t.batch_size, steps, t._generator).flat() for t in tuners]
        fields = [_stack_field([b[i] for b in batches]) for i in range(len(batches[0]))]  # each (S, K, B, ...)
        drift = tuners[0].prior_drift  # None unless g_trains_reward_rnn (then the only member)
        if drift is None and self.compiled:
            stats = native.gradient_steps(stack, settings, fields)  # (S, K, 3)
        else:
            stats = torch.empty(steps, len(tuners), 3)  # loss, grad norm, mean value of the actions taken
            for i in range(steps):
                batch = tuple(None if f is None else f[i] for f in fields)
                if drift is not None:
                    batch = drift.step(stack, settings, batch)  # the prior moves; the batch gets its log p(·|s')
                if self.prior_step is None:
                    stats[i] = gradient_step(stack, settings, batch)
                else:
                    stats[i] = autograd_gradient_step(stack, settings, batch, self.prior_step)
        finite = torch.isfinite(stats).all(-1).all(0)  # (K,)
        if not finite.all():
            self.good.restore()
            bad = int((~finite).nonzero()[0])
            raise tuners[bad]._nan_error(stats[:, bad])
        self.good.capture()
        for k, tuner in enumerate(tuners):
            tuner._record_updates(stats[:, k])


class Population:
    """Train K :class:`~agents.tuner.RLTuner` members in lock-step; see the module docs.

    :param tuners: the members; same prior shape, rows per env, ``SHARED`` hyperparameters, compatibility
        switches, compiled step and torch threads.
    :raises ValueError: the members cannot share one lock-step (the message names the difference).
    """

    def __init__(self, tuners: Sequence[Any]) -> None:
        self.tuners = list(tuners)
        if not self.tuners:
            raise ValueError("a Population needs at least one RLTuner")
        first = self.tuners[0]
        for tuner in self.tuners[1:]:
            if tuner is first or any(tuner is t for t in self.tuners[: self.tuners.index(tuner)]):
                raise ValueError("a Population's members must be distinct RLTuner objects")
            for name in (*SHARED, "clip", "bootstrap_last_note", "torch_threads"):
                if getattr(tuner, name) != getattr(first, name):
                    raise ValueError(
                        f"Population members must share {name}: {getattr(first, name)!r} vs {getattr(tuner, name)!r}"
                    )
            if tuner.networks.layout != first.networks.layout:
                raise ValueError("Population members must have priors of one shape (layers, sizes, vocabulary)")
            if tuner.networks.compiled != first.networks.compiled:
                raise ValueError("Population members must all run the compiled step, or all the Python step")
        if len(self.tuners) > 1 and any(t.prior_drift is not None for t in self.tuners):
            raise ValueError(
                "g_trains_reward_rnn=True trains alone (agents.prior_drift): leave that tuner out of the Population "
                "and call its own learn()"
            )
        envs = [t.env for t in self.tuners]
        if any(env is None for env in envs):
            raise ValueError("an RLTuner has no env; pass one to the constructor, set_env() or load(path, env=...)")
        if len({env.num_envs for env in envs}) != 1:
            raise ValueError(f"Population members must run as many rows each, got {[e.num_envs for e in envs]}")
        if len({id(env) for env in envs}) != len(envs):
            raise ValueError("Population members need an env each (they step them separately)")

    def learn(
        self,
        total_timesteps: int,
        callback: Any = None,
        log_interval: int | None = 4,
        tb_log_name: str = "RLTuner",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> list[Any]:
        """Train every member for ``total_timesteps`` environment steps (SB3 semantics, per member).

        :param callback: SB3 callback(s) for every member (a list of K lists/callbacks gives each its own;
            a single callback object cannot be shared, as SB3 callbacks hold their model).
        :param log_interval: each member dumps its logger every this many finished episodes.
        :return: the members, trained.
        :raises NaNLossError: a member's loss or gradient became NaN/inf; every member is restored to the
            last good state (the failing member's is written to its ``nan_checkpoint_path`` when set).
        """
        tuners = self.tuners
        callbacks = _per_member(callback, len(tuners))
        with torch_threads(tuners[0].torch_threads):
            lockstep = LockStep(tuners)
            hooks = [
                t._setup_learn(total_timesteps, cb, reset_num_timesteps, tb_log_name, progress_bar)
                for t, cb in zip(tuners, callbacks, strict=True)
            ]
            while tuners[0].num_timesteps < tuners[0]._total_timesteps:
                values, next_states = lockstep.values()
                keep_going = [
                    t._act(values[k], next_states[k], hooks[k]) for k, t in enumerate(tuners)
                ]  # every member steps, even after one asks to stop: lock-step
                if not all(keep_going):
                    break
                lockstep.train()
                for tuner in tuners:
                    tuner._maybe_dump(log_interval)
            for hook in hooks:
                hook.on_training_end()
        return tuners


def _stack_field(values: list[Tensor | None]) -> Tensor | None:
    """Stack one replay field of every member on dim 1; members without it (log p(·|s') off G) get zeros."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if len(values) == 1:
        return values[0].unsqueeze(1)  # one member: a view, no copy
    return torch.stack([torch.zeros_like(present[0]) if v is None else v for v in values], 1)


def _per_member(callback: Any, k: int) -> list[Any]:
    """One callback (or list) per member: ``None`` for all, or a list of K entries."""
    if callback is None:
        return [None] * k
    if k == 1:
        return [callback]
    if isinstance(callback, (list, tuple)) and len(callback) == k:
        return list(callback)
    raise ValueError(
        f"a Population of {k} takes callback=None or a list of {k} callbacks (one per member: SB3 callbacks "
        "hold their model, so one object cannot serve several)"
    )


__all__ = ["SHARED", "LockStep", "Population"]
