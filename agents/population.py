"""K tuners trained in lock-step in one process, with stacked weights (one batched product serves all K).

A :class:`Population` takes K ordinary :class:`~agents.tuner.RLTuner` objects of one network shape —
different seeds, c values, algorithms or exploration — each with its own env, replay and random
generator, and trains them together: every vector step runs one batched forward pass of the K Q
networks, then each member acts on its own env; every gradient step is one
:func:`agents.step.update.gradient_step` over the K members. The members' weights, target networks and
Adam moments are rows of shared ``(K, P)`` tensors, and every operation acts on each row alone, so
each member is the run it would be alone with its seed (tested against solo runs).
``RLTuner.learn`` is a population of one.

    from agents import Population, RLTuner

    tuners = [RLTuner("q", "MelodyCompose-v0", seed=s) for s in range(8)]
    Population(tuners).learn(200_000)
    tuners[3].save("q_seed3.zip")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from agents.step import native
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from agents.training_state import GoodState
from sequence_env.threads import torch_threads

# Hyperparameters the lock-step needs equal across members (one gradient-step schedule, one Adam call).
SHARED = ("batch_size", "train_freq", "learning_starts", "learning_rate", "gamma", "tau", "max_grad_norm")


class Population:
    """Train K :class:`~agents.tuner.RLTuner` members in lock-step; see the module docs.

    :param tuners: the members; same Note RNN shape, melodies per env, ``SHARED`` hyperparameters,
        compatibility switches and torch threads.
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
                raise ValueError("Population members must have Note RNNs of one shape (hidden size, classes)")
        if len(self.tuners) > 1 and any(t.prior_drift is not None for t in self.tuners):
            raise ValueError(
                "g_trains_reward_rnn=True trains alone (agents.prior_drift): leave that tuner out of the Population "
                "and call its own learn()"
            )
        envs = [t.env for t in self.tuners]
        if any(env is None for env in envs):
            raise ValueError("an RLTuner has no env; pass one to the constructor, set_env() or load(path, env=...)")
        if len({env.num_envs for env in envs}) != 1:
            raise ValueError(f"Population members must run as many melodies each, got {[e.num_envs for e in envs]}")
        if len({id(env) for env in envs}) != len(envs):
            raise ValueError("Population members need an env each (they step them separately)")

    # -------------------------------------------------------------------------------- stacking
    def _stack(self) -> Stack:
        """Copy the members' weights and Adam state into ``(K, P)`` tensors and bind each member to its row."""
        tuners = self.tuners
        theta = torch.stack([t.networks.theta for t in tuners])
        target = torch.stack([t.networks.target for t in tuners])
        adam = AdamState(
            torch.stack([t.adam.exp_avg for t in tuners]),
            torch.stack([t.adam.exp_avg_sq for t in tuners]),
            [t.adam.steps[0] for t in tuners],
        )
        for k, tuner in enumerate(tuners):
            tuner.networks.bind(theta[k], target[k])
            tuner.adam = AdamState(adam.exp_avg[k], adam.exp_avg_sq[k], [adam.steps[k]])
        return Stack(theta, target, adam, tuners[0].networks.layout)

    # -------------------------------------------------------------------------------- learning
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
        :param log_interval: each member dumps its logger every this many finished melodies.
        :return: the members, trained.
        :raises NaNLossError: a member's loss or gradient became NaN/inf; every member is restored to the
            last good state (the failing member's is written to its ``nan_checkpoint_path`` when set).
        """
        tuners = self.tuners
        callbacks = _per_member(callback, len(tuners))
        with torch_threads(tuners[0].torch_threads):
            stack = self._stack()
            adam = stack.adam
            good = GoodState(lambda: [stack.theta, stack.target, adam.exp_avg, adam.exp_avg_sq, *adam.steps])
            for tuner in tuners:
                tuner.good_state = good
            settings = StepSettings(
                algorithms=tuple(t.algorithm for t in tuners),
                c=torch.zeros(len(tuners), 1),
                **{name: getattr(tuners[0], name) for name in SHARED[3:]},
                clip=tuners[0].clip,
                bootstrap_last_note=tuners[0].bootstrap_last_note,
            )
            hooks = [
                t._start_learn(total_timesteps, cb, reset_num_timesteps, tb_log_name, progress_bar)
                for t, cb in zip(tuners, callbacks, strict=True)
            ]
            while tuners[0].num_timesteps < tuners[0]._total_timesteps:
                notes = torch.stack([t._notes() for t in tuners])  # (K, N)
                h = torch.stack([t._state[0] for t in tuners])
                c = torch.stack([t._state[1] for t in tuners])
                values, (h1, c1) = native.values(stack.theta, stack.params, notes, h, c)  # (K, N, A)
                keep_going = [
                    t._act(values[k], (h1[k], c1[k]), hooks[k]) for k, t in enumerate(tuners)
                ]  # every member steps, even after one asks to stop: lock-step
                if not all(keep_going):
                    break
                self._train(stack, settings, good)
                for tuner in tuners:
                    tuner._maybe_dump(log_interval)
            for hook in hooks:
                hook.on_training_end()
        return tuners

    def _train(self, stack: Stack, settings: StepSettings, good: GoodState) -> None:
        """The gradient steps owed (the same number for every member), batched over the members."""
        tuners = self.tuners
        owed = [t._owed_gradient_steps() for t in tuners]
        steps = owed[0]
        if steps == 0:
            return
        settings.c = torch.tensor([[t.c] for t in tuners], dtype=torch.float32)
        settings.learning_rate = tuners[0].current_learning_rate
        batches = [t.replay_buffer.sample(t.batch_size, steps, t._generator) for t in tuners]
        fields = [_stack_field([b[i] for b in batches]) for i in range(len(batches[0]))]  # each (S, K, B, ...)
        drift = tuners[0].prior_drift  # None unless g_trains_reward_rnn (then the only member)
        if drift is None and native.enabled():
            stats = native.gradient_steps(stack, settings, fields)  # (S, K, 3)
        else:
            stats = torch.empty(steps, len(tuners), 3)  # loss, grad norm, mean value of the actions taken
            for i in range(steps):
                batch = tuple(None if f is None else f[i] for f in fields)
                if drift is not None:
                    batch = drift.step(stack, settings, batch)  # the prior moves; the batch gets its log p(·|s')
                stats[i] = gradient_step(stack, settings, batch)
        finite = torch.isfinite(stats).all(-1).all(0)  # (K,)
        if not finite.all():
            good.restore()
            raise tuners[int((~finite).nonzero()[0])]._nan_error(stats[:, int((~finite).nonzero()[0])])
        good.capture()
        for k, tuner in enumerate(tuners):
            tuner._record_updates(stats[:, k])


def _stack_field(values: list[torch.Tensor | None]) -> torch.Tensor | None:
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


__all__ = ["SHARED", "Population"]
