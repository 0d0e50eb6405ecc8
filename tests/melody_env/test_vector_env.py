"""MelodyComposeVectorEnv: gym.make_vec, equality with N single envs, NEXT_STEP autoreset, one batched call."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode

import melody_env  # noqa: F401 - registers MelodyCompose-v0
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import NoteRNN, NoteRNNConfig
from melody_env.vector import MelodyComposeVectorEnv

N, LENGTH = 4, 8


@pytest.fixture
def rnn():
    torch.manual_seed(0)
    return NoteRNN(NoteRNNConfig(hidden_size=24)).eval()


def make_vec(rnn, mode=None, num_envs=N, **kwargs):  # None: the registered vector_entry_point
    return gym.make_vec(
        "MelodyCompose-v0", num_envs=num_envs, vectorization_mode=mode, checkpoint=rnn, melody_length=LENGTH, **kwargs
    )


def assert_same(a, b):
    """Equal nested dicts/arrays (floats to 1e-6: the batched and one-row LSTM use different BLAS paths)."""
    if isinstance(a, dict):
        assert set(a) == set(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(a, b)


def test_make_vec_uses_the_batched_env(rnn):
    envs = make_vec(rnn)
    assert isinstance(envs, MelodyComposeVectorEnv) and envs.num_envs == N
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == MelodyComposeEnv(checkpoint=rnn, melody_length=LENGTH).observation_space
    assert envs.action_space == gym.spaces.MultiDiscrete([38] * N)
    obs, info = envs.reset(seed=0)
    assert obs in envs.observation_space and obs["h"].shape == (N, 24) and info["prior_log_probs"].shape == (N, 38)


def test_same_as_sync_vector_env_of_single_envs(rnn):
    """Seeded alike and fed the same actions, the batched env gives SyncVectorEnv's numbers (3 episodes)."""
    ours, sync = make_vec(rnn), make_vec(rnn, mode="sync")
    assert_same(ours.reset(seed=7), sync.reset(seed=7))
    actions = np.random.default_rng(0).integers(0, 38, (3 * (LENGTH + 1), N))
    for t, act in enumerate(actions):
        got, want = ours.step(act), sync.step(act)
        assert_same(got, want)
        terminated = got[2]
        assert terminated.all() == (t % (LENGTH + 1) == LENGTH - 1)


def test_row_i_is_a_single_env_seeded_s_plus_i(rnn):
    envs = make_vec(rnn, num_envs=3)
    singles = [MelodyComposeEnv(checkpoint=rnn, melody_length=LENGTH) for _ in range(3)]
    obs, _ = envs.reset(seed=100)
    for i, env in enumerate(singles):
        single_obs, _ = env.reset(seed=100 + i)
        assert obs["note"][i] == single_obs["note"]
    actions = np.random.default_rng(1).integers(0, 38, (2 * LENGTH, 3))
    for t, act in enumerate(actions):
        obs, reward, *_ = envs.step(act)
        for i, env in enumerate(singles):
            if t == LENGTH:  # the autoreset step: the row starts a new melody, as reset() would
                single_obs, _ = env.reset()
                assert reward[i] == 0.0
            else:
                single_obs, single_reward, *_ = env.step(act[i])
                assert reward[i] == pytest.approx(single_reward, abs=1e-5)
            assert obs["note"][i] == single_obs["note"] and obs["position"][i] == single_obs["position"]
            np.testing.assert_allclose(obs["h"][i], single_obs["h"], atol=1e-6)


def test_next_step_autoreset(rnn):
    envs = make_vec(rnn)
    envs.reset(seed=1)
    for _ in range(LENGTH):
        obs, reward, terminated, truncated, info = envs.step(np.full(N, 14))
    assert terminated.all() and not truncated.any() and (obs["position"] == LENGTH).all()
    obs, reward, terminated, truncated, info = envs.step(np.full(N, 14))  # actions ignored: new melodies
    assert (reward == 0).all() and not terminated.any() and (obs["position"] == 0).all()
    assert set(info) == {"prior_log_probs", "_prior_log_probs"}
    obs, *_, info = envs.step(np.full(N, 14))
    assert (obs["position"] == 1).all() and info["_log_prior"].all()


def test_reset_mask_matches_sync(rnn):
    """Rows reset apart keep stepping on their own; mixed autoreset steps mask the reward parts."""
    ours, sync = make_vec(rnn), make_vec(rnn, mode="sync")
    mask = np.array([True, False, True, False])
    assert_same(ours.reset(seed=3), sync.reset(seed=3))
    actions = np.random.default_rng(2).integers(0, 38, (2 * LENGTH + 4, N))
    for t, act in enumerate(actions):
        if t == 3:
            assert_same(ours.reset(options={"reset_mask": mask}), sync.reset(options={"reset_mask": mask}))
        got, want = ours.step(act), sync.step(act)
        assert_same(got, want)
    assert not np.array_equal(got[0]["position"][mask], got[0]["position"][~mask])  # rows out of step


def test_one_batched_rnn_and_rules_call_per_step(rnn, monkeypatch):
    envs = MelodyComposeVectorEnv(num_envs=16, checkpoint=rnn, melody_length=LENGTH)
    calls = {"rnn": 0, "rules": 0}
    rnn_step, rules_step = envs.core.stepper.step, envs.core.evaluator.step

    def count(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(envs.core.stepper, "step", count("rnn", rnn_step))
    monkeypatch.setattr(envs.core.evaluator, "step", count("rules", rules_step))
    envs.reset(seed=0)  # one-note primers are table lookups: no call
    for _ in range(LENGTH + 1):  # 8 notes, then the all-rows autoreset step (no call)
        envs.step(np.zeros(16, dtype=np.int64))
    assert calls == {"rnn": LENGTH, "rules": LENGTH}


@pytest.mark.parametrize(
    ("actions", "error"),
    [
        (np.zeros(N + 1, dtype=np.int64), ValueError),
        (np.zeros((N, 1), dtype=np.int64), ValueError),
        (np.full(N, 38), ValueError),
        (np.full(N, -1), ValueError),
        (np.zeros(N), TypeError),
        (np.zeros(N, dtype=bool), TypeError),
    ],
)
def test_invalid_actions(rnn, actions, error):
    envs = make_vec(rnn)
    envs.reset(seed=0)
    with pytest.raises(error, match="actions must"):
        envs.step(actions)


def test_seeds_and_options(rnn):
    envs = make_vec(rnn, num_envs=2)
    a, _ = envs.reset(seed=[5, 9])
    b, _ = envs.reset(seed=5)  # rows seeded 5 and 6
    c, _ = MelodyComposeVectorEnv(num_envs=1, checkpoint=rnn, melody_length=LENGTH).reset(seed=9)
    assert a["note"][0] == b["note"][0] and a["note"][1] == c["note"][0]
    with pytest.raises(ValueError, match="max_primer_length=2"):  # longer than the random primer's 1 step
        envs.reset(options={"primer": [20, 1]})
    envs = make_vec(rnn, num_envs=2, max_primer_length=2)
    obs, _ = envs.reset(options={"primer": [20, 1]})
    assert (obs["note"] == 1).all() and all(len(p) == 2 for p in envs.core.primers)
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.zeros(2, dtype=bool)})
    with pytest.raises(ValueError, match="reset options"):
        envs.reset(options={"mask": 1})


def test_render_one_frame_per_row(rnn):
    envs = make_vec(rnn, render_mode="ansi", primer=[14])
    envs.reset(seed=0)
    envs.step(np.array([14, 16, 18, 19]))
    assert envs.render() == ("[C4] C4", "[C4] D4", "[C4] E4", "[C4] F4")
    frames = make_vec(rnn, render_mode="rgb_array").render()
    assert len(frames) == N and all(f.dtype == np.uint8 for f in frames)


def test_primers_of_several_lengths_in_one_reset(rnn):
    """Rows primed with sequences of different lengths get the state a single env primed alike gets."""
    envs = MelodyComposeVectorEnv(num_envs=4, checkpoint=rnn, melody_length=LENGTH, max_primer_length=3)
    primers = [np.array([14]), np.array([14, 1, 16]), np.array([20, 0, 1]), np.array([30, 1])]
    envs.core.reset_rows(np.ones(4, dtype=bool), primers)
    obs, log_probs = envs.core.observation(), envs.core.log_probs
    for i, primer in enumerate(primers):
        single_obs, info = MelodyComposeEnv(checkpoint=rnn, melody_length=LENGTH, primer=primer).reset(seed=0)
        assert obs["note"][i] == primer[-1] and obs["position"][i] == 0
        np.testing.assert_allclose(obs["c"][i], single_obs["c"], atol=1e-6)
        np.testing.assert_allclose(log_probs[i], info["prior_log_probs"], atol=1e-5)


def test_corpus_primer_matches_sync(rnn, tmp_path, monkeypatch):
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    scale = "CDEFGABcdefgab"
    tunes = [f"X:{i}\nT:t{i}\nM:4/4\nL:1/8\nK:C\n{scale[i : i + 8]}|{scale[i : i + 8][::-1]}|\n" for i in range(6)]
    (tmp_path / "tunes.abc").write_text("\n".join(tunes))
    kwargs = {"primer": "corpus", "corpus": str(tmp_path / "tunes.abc"), "corpus_primer_steps": 4}
    ours, sync = make_vec(rnn, **kwargs), make_vec(rnn, mode="sync", **kwargs)
    assert_same(ours.reset(seed=2), sync.reset(seed=2))
    for act in np.random.default_rng(3).integers(0, 38, (LENGTH + 2, N)):
        assert_same(ours.step(act), sync.step(act))
    assert all(len(p) == 4 for p in ours.core.primers)


def test_step_before_reset_asks_for_reset(rnn):
    envs = MelodyComposeVectorEnv(num_envs=2, checkpoint=rnn)
    with pytest.raises(ResetNeeded, match="reset"):
        envs.step(np.zeros(2, dtype=np.int64))
