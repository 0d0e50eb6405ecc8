"""The compiled gradient steps (agents/step/csrc/gradient_steps.cpp) give the Python step's numbers, step after step."""

import os
import platform
import time

import numpy as np
import pytest
import torch

from agents.step import native
from agents.step.stacked import Layout, flatten
from agents.step.update import AdamState, Stack, StepSettings, gradient_step
from melody_env.note_rnn import NoteRNN, NoteRNNConfig

pytestmark = pytest.mark.skipif(not native.available(), reason="no C++ compiler: the compiled step is not built")

H, B, S = 12, 40, 6  # more rows than classes: repeated notes and actions must accumulate


def _fields(k, seed, with_prior=True):
    """S batches for K agents, each field (S, K, B, ...), as the replay buffers sample them."""
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randint(38, (S, k, B), generator=g),
        torch.randn(S, k, B, H, generator=g) * 0.5,
        torch.randn(S, k, B, H, generator=g),
        torch.randint(38, (S, k, B), generator=g),
        -torch.rand(S, k, B, generator=g) * 4,
        torch.randn(S, k, B, generator=g) * 3,
        torch.rand(S, k, B, generator=g) < 0.3,
        torch.log_softmax(torch.randn(S, k, B, 38, generator=g), -1) if with_prior else None,
    ]


def _stack(k, seed=0):
    torch.manual_seed(seed)
    nets = [NoteRNN(NoteRNNConfig(hidden_size=H)) for _ in range(2 * k)]
    layout = Layout.of(nets[0])
    theta = torch.stack([flatten(n) for n in nets[:k]])
    target = torch.stack([flatten(n) for n in nets[k:]])
    return Stack(theta, target, AdamState.zeros(k, layout.size), layout)


def _count_calls(monkeypatch, name):
    """Record each call of ``native.<name>`` (still made) in the returned list."""
    calls, real = [], getattr(native, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(native, name, counted)
    return calls


def _both(algorithms, fields, **settings):
    """(Python stack, its stats), (compiled stack, its stats) after the same S steps from the same start."""
    k = len(algorithms)
    results = []
    for run in ("python", "native"):
        stack = _stack(k)
        step = StepSettings(algorithms=tuple(algorithms), c=torch.linspace(0.3, 1.2, k).reshape(-1, 1), **settings)
        if run == "python":
            batches = [[None if f is None else f[s] for f in fields] for s in range(S)]
            stats = torch.stack([gradient_step(stack, step, batch) for batch in batches])
        else:
            stats = native.gradient_steps(stack, step, fields)
        results.append((stack, stats))
    return results


def _assert_same(python, compiled):
    (a, stats_a), (b, stats_b) = python, compiled
    for name in ("theta", "target", "grad"):
        torch.testing.assert_close(getattr(b, name), getattr(a, name), rtol=1e-4, atol=1e-6, msg=name)
    torch.testing.assert_close(b.adam.exp_avg, a.adam.exp_avg, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(b.adam.exp_avg_sq, a.adam.exp_avg_sq, rtol=1e-4, atol=1e-9)
    assert [float(s) for s in b.adam.steps] == [float(s) for s in a.adam.steps] == [float(S)] * len(a.adam.steps)
    torch.testing.assert_close(stats_b, stats_a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("algorithm", ["q", "psi", "g", "rl_only"])
def test_each_algorithm_matches_the_python_step(algorithm):
    python, compiled = _both([algorithm], _fields(1, 0, with_prior=algorithm == "g"))
    _assert_same(python, compiled)
    assert not torch.equal(compiled[0].theta, _stack(1).theta)  # the steps moved the weights


def test_a_mixed_population_matches_member_by_member():
    python, compiled = _both(["q", "psi", "g", "rl_only", "q"], _fields(5, 1))
    _assert_same(python, compiled)


@pytest.mark.parametrize("max_grad_norm", [0.05, 1e6])  # the clip on every step, and never
@pytest.mark.parametrize("clip", ["global", "per_tensor"])
def test_clipping_matches(clip, max_grad_norm):
    python, compiled = _both(["q", "g"], _fields(2, 2), clip=clip, max_grad_norm=max_grad_norm)
    _assert_same(python, compiled)


def test_bootstrap_last_note_and_other_settings_match():
    settings = {"bootstrap_last_note": True, "gamma": 0.9, "tau": 0.2, "learning_rate": 3e-3, "betas": (0.8, 0.99)}
    python, compiled = _both(["psi", "q"], _fields(2, 3, with_prior=False), **settings)
    _assert_same(python, compiled)


def test_a_terminal_transition_bootstraps_nothing_even_from_inf():
    fields = _fields(1, 4)
    fields[6][:] = True  # every transition ends its melody
    fields[7][:] = float("inf")  # log p(·|s') never read
    (_, python), (_, compiled) = _both(["g"], fields)
    assert torch.isfinite(compiled).all()
    torch.testing.assert_close(compiled, python, rtol=1e-4, atol=1e-5)


def test_nan_in_a_batch_shows_in_that_agents_stats_only():
    fields = _fields(2, 5)
    fields[4][2, 1, 0] = float("nan")  # agent 1's log p at step 2
    _, (_, stats) = _both(["q", "q"], fields)
    assert torch.isfinite(stats[:, 0]).all()
    assert torch.isfinite(stats[:2, 1]).all() and not torch.isfinite(stats[2:, 1]).all()


def test_bad_input_is_refused_with_its_name():
    stack = _stack(1)
    fields = _fields(1, 6)
    fields[0] = fields[0].to(torch.int32)
    with pytest.raises(RuntimeError, match="note must be a contiguous int64 tensor"):
        native.gradient_steps(stack, StepSettings(algorithms=("q",), c=torch.ones(1, 1)), fields)


def test_bad_token_ids_and_shapes_are_errors_not_out_of_bounds_reads():
    stack = _stack(1)
    settings = StepSettings(algorithms=("q",), c=torch.ones(1, 1))
    for field, bad, message in ((0, 38, "note holds 38"), (3, -1, "action holds -1")):
        fields = _fields(1, 6)
        fields[field] = fields[field].clone()
        fields[field][0, 0, 0] = bad
        with pytest.raises(RuntimeError, match=message):
            native.gradient_steps(stack, settings, fields)
    fields = _fields(1, 6)
    fields[2] = fields[2][..., :-1].contiguous()  # cell narrower than h
    with pytest.raises(RuntimeError, match="h and cell must be"):
        native.gradient_steps(stack, settings, fields)
    fields = _fields(1, 6)
    fields[4] = fields[4][:, :, :-1].contiguous()  # one log p short
    with pytest.raises(RuntimeError, match="like note"):
        native.gradient_steps(stack, settings, fields)
    notes = torch.full((1, 3), 40)
    with pytest.raises(RuntimeError, match="notes holds 40"):
        native.step_values(stack.theta, notes, torch.zeros(1, 3, H), torch.zeros(1, 3, H))


def test_use_compiled_takes_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("RL_TUNER_NATIVE", raising=False)
    assert native.use_compiled(None, True) and native.use_compiled(True, True)
    assert not native.use_compiled(False, True) and not native.use_compiled(None, False)
    monkeypatch.setenv("RL_TUNER_NATIVE", "0")
    assert not native.use_compiled(None, True) and native.use_compiled(True, True)
    with pytest.raises(ValueError, match="one-layer LSTM"):
        native.use_compiled(True, False)
    with pytest.raises(ValueError, match="compiled_step must be"):
        native.use_compiled("yes", True)


def test_a_failed_build_warns_once_and_trains_to_the_same_numbers(monkeypatch, make_env):
    """The build is made to fail on purpose: tuners then warn once and train on the Python step, same numbers."""
    from agents import RLTuner

    monkeypatch.delenv("RL_TUNER_NATIVE", raising=False)
    compiled = RLTuner("q", make_env(num_envs=8), seed=2, batch_size=16)
    assert compiled.networks.compiled
    compiled.learn(400)

    def broken_build() -> None:
        raise RuntimeError("error: no C++ compiler (made to fail by the test)")

    monkeypatch.setattr(native, "_build", broken_build)
    native.available.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="could not be built .*made to fail") as caught:
            fallback = RLTuner("q", make_env(num_envs=8), seed=2, batch_size=16)
            again = RLTuner("q", make_env(num_envs=8), seed=2, batch_size=16)
        assert len([w for w in caught if "could not be built" in str(w.message)]) == 1  # once per process
        assert not fallback.networks.compiled and not again.networks.compiled
        fallback.learn(400)
    finally:
        native.available.cache_clear()  # the next caller builds (finds) the real library again
    torch.testing.assert_close(flatten(fallback.networks.q_net), flatten(compiled.networks.q_net), rtol=1e-3, atol=1e-4)


def test_a_tuner_trains_to_the_same_weights_with_either_step(monkeypatch, make_env):
    from agents import RLTuner
    from agents.step.stacked import flatten

    calls = _count_calls(monkeypatch, "gradient_steps")
    weights, used = {}, {}
    for flag in ("0", "1"):
        tuner = RLTuner("g", make_env("g", num_envs=8), seed=3, batch_size=16, compiled_step=flag == "1")
        before = len(calls)
        tuner.learn(400)
        weights[flag], used[flag] = flatten(tuner.networks.q_net), len(calls) - before
    assert used["0"] == 0 and used["1"] > 0  # each run took the path it names
    assert not torch.equal(weights["0"], flatten(RLTuner("g", make_env("g", num_envs=8), seed=3).networks.q_net))
    torch.testing.assert_close(weights["1"], weights["0"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("k", "n"), [(1, 50), (3, 50), (2, 300)])  # 300 rows: W_ih transposed first
def test_step_values_match_the_python_forward(k, n):
    from agents.step.stacked import stacked_values

    stack = _stack(k, seed=7)
    g = torch.Generator().manual_seed(7)
    notes, h, c = (
        torch.randint(38, (k, n), generator=g),
        torch.randn(k, n, H, generator=g),
        torch.randn(k, n, H, generator=g),
    )
    values, (h1, c1) = native.step_values(stack.theta, notes, h, c)
    expected, (h2, c2) = stacked_values(stack.params, notes, h, c)
    for mine, theirs in ((values, expected), (h1, h2), (c1, c2)):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_lock_left_by_an_interrupted_build_is_removed_a_fresh_one_kept(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    native._remove_stale_lock(lock)
    assert lock.exists()  # a build may be running
    old = time.time() - native.STALE_LOCK_SECONDS - 60
    os.utime(lock, (old, old))
    with pytest.warns(RuntimeWarning, match="interrupted build"):
        native._remove_stale_lock(lock)
    assert not lock.exists()
    native._remove_stale_lock(lock)  # nothing there: nothing to do


def test_a_tuner_composes_the_same_melodies_with_either_forward(monkeypatch):
    from agents import RLTuner

    calls = _count_calls(monkeypatch, "step_values")
    tuner = RLTuner("psi", "MelodyCompose-v0", seed=1, n_envs=1, compiled_step=False)
    python = tuner.generate(200, seed=5)
    assert not calls
    tuner.networks.compiled = True
    np.testing.assert_array_equal(tuner.generate(200, seed=5), python)
    assert len(calls) == 32  # one compiled step per note


def test_the_build_directory_follows_torch_extensions_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    folder = native.build_directory()
    assert folder.parent == tmp_path and folder.name.startswith(f"rl_tuner_native_{platform.machine()}_py")
    assert torch.__version__ in folder.name
