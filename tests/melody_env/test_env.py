"""MelodyCompose-v0, the single env: registration, spaces, the Eq. 3 reward, priming, errors, check_env."""

import importlib
import math
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.utils.env_checker import check_env

import melody_env
from melody_env.data import load_corpus
from melody_env.env import MelodyComposeEnv
from melody_env.note_rnn import DEFAULT_CHECKPOINT, NoteRNN, load_default_note_rnn
from reward_rules import DEFAULT_RULES, Key, RuleSet, music_theory_rewards
from sequence_env.reward import check_c, compose_reward

LOG_38 = math.log(38.0)


@pytest.fixture
def rnn():
    torch.manual_seed(0)
    return NoteRNN().eval()


@pytest.fixture
def uniform_rnn():
    """All weights zero: p(a|s) = 1/38 for every state, h = c = 0."""
    model = NoteRNN()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


def play(env, actions):
    out = [env.step(int(a)) for a in actions]
    return out


# ------------------------------------------------------------------------------ Eq. 3 by hand
def test_compose_reward_hand_numbers():
    # log p = -2, rMT = 3, c = 0.5: -2 + 3 / 0.5 = 4
    assert compose_reward(-2.0, 3.0, 0.5, "full") == pytest.approx(4.0)
    assert compose_reward(-2.0, 3.0, 0.5, "rules") == pytest.approx(6.0)
    assert compose_reward(-2.0, 3.0, 0.5, "prior") == pytest.approx(-2.0)
    assert compose_reward(-1.5, -1.0, 1.0) == pytest.approx(-2.5)
    out = compose_reward(np.array([-1.0, -3.0]), np.array([0.0, -100.0]), 0.5)
    np.testing.assert_allclose(out, [-1.0, -203.0])
    with pytest.raises(ValueError, match="reward_mode"):
        compose_reward(0.0, 0.0, 0.5, "both")


@pytest.mark.parametrize("c", [0, -1.0, float("nan"), float("inf")])
def test_check_c_rejects(c):
    with pytest.raises(ValueError, match="c must be"):
        check_c(c)
    with pytest.raises(TypeError):
        check_c("0.5")


def test_reward_by_hand_with_uniform_prior(uniform_rnn):
    # Only rule 2 (tonic): C4 (class 14) at beat 0 earns +3. p is uniform, so log p = -log 38.
    rules = RuleSet([DEFAULT_RULES["tonic"]])
    env = MelodyComposeEnv(checkpoint=uniform_rnn, rules=rules, c=0.5)
    _, info = env.reset(seed=0)
    np.testing.assert_allclose(info["prior_log_probs"], np.full(38, -LOG_38), rtol=1e-6)
    obs, reward, *_, info = env.step(14)
    assert reward == pytest.approx(-LOG_38 + 3 / 0.5, rel=1e-6)
    assert info["log_prior"] == pytest.approx(-LOG_38, rel=1e-6)
    assert info["music_theory"] == 3.0 and info["rules/tonic"] == 3.0
    _, reward, *_ = env.step(16)  # D4 at beat 1: no tonic reward
    assert reward == pytest.approx(-LOG_38, rel=1e-6)
    np.testing.assert_array_equal(obs["h"], np.zeros(100, np.float32))


# ------------------------------------------------------------------------------- registration
def test_registered_and_idempotent(rnn):
    importlib.reload(melody_env)  # registering twice must not warn or fail
    assert gym.spec("MelodyCompose-v0").vector_entry_point == "melody_env.vector:MelodyComposeVectorEnv"
    env = gym.make("melody_env:MelodyCompose-v0", checkpoint=rnn)
    assert isinstance(env.unwrapped, MelodyComposeEnv)


@pytest.mark.parametrize("package", ["melody_env", "sequence_env"])
def test_import_is_light(package):
    code = f"import sys, {package}; print(sorted(m for m in ('torch', 'music21', 'symusic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not DEFAULT_CHECKPOINT.with_suffix(".json").exists(), reason="shipped checkpoint not built yet")
def test_default_checkpoint_is_the_shipped_note_rnn():
    env = gym.make("MelodyCompose-v0")
    shipped = load_default_note_rnn()
    for name, tensor in shipped.state_dict().items():
        torch.testing.assert_close(env.unwrapped.reward_rnn.state_dict()[name], tensor)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning is recorded, none ignored
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


# ---------------------------------------------------------------------------- spaces, episode
def test_spaces_and_episode(rnn):
    env = gym.make("MelodyCompose-v0", checkpoint=rnn, melody_length=32)
    assert env.action_space == gym.spaces.Discrete(38)
    space = env.observation_space
    assert set(space) == {"note", "h", "c", "position"}
    assert space["note"] == gym.spaces.Discrete(38) and space["position"] == gym.spaces.Discrete(33)
    assert space["h"].shape == space["c"].shape == (100,) and space["h"].dtype == np.float32
    obs, _ = env.reset(seed=3)
    assert obs in space and obs["position"] == 0 and 2 <= obs["note"] <= 37
    flags = []
    for t in range(32):
        obs, reward, terminated, truncated, _ = env.step(t % 38)
        assert obs in space and obs["position"] == t + 1 and obs["note"] == t % 38
        assert np.isfinite(reward) and not truncated
        flags.append(terminated)
    assert flags == [False] * 31 + [True]
    with pytest.raises(ResetNeeded, match="reset"):
        env.step(0)
    np.testing.assert_array_equal(env.unwrapped.melody, np.arange(32) % 38)


def test_step_before_reset_asks_for_reset(rnn):
    with pytest.raises(ResetNeeded, match="reset"):
        MelodyComposeEnv(checkpoint=rnn).step(3)


def test_rewards_match_an_independent_replay(rnn):
    """Every reward, info part and next-state prior equals a replay with NoteRNN.forward and the rules."""
    c = 0.7
    env = MelodyComposeEnv(checkpoint=rnn, c=c, key="A minor")
    actions = np.random.default_rng(1).integers(0, 38, 32)
    _, info = env.reset(seed=11)
    primer = env.primer
    steps = play(env, actions)
    with torch.no_grad():
        logits, _ = rnn(torch.as_tensor(np.concatenate([primer, actions]))[None])
    log_p = torch.log_softmax(logits[0], dim=1).numpy()  # row t: log p(. | primer, a_0..a_{t-1})
    rules = music_theory_rewards(actions, 32, Key.parse("A minor"))
    np.testing.assert_allclose(info["prior_log_probs"], log_p[len(primer) - 1], atol=1e-5)
    for t, (_, reward, _, _, info) in enumerate(steps):
        expect_prior = log_p[len(primer) - 1 + t, actions[t]]
        assert info["log_prior"] == pytest.approx(expect_prior, abs=1e-5)
        assert info["music_theory"] == pytest.approx(rules[t].sum())
        for j, name in enumerate(DEFAULT_RULES.names):
            assert info[f"rules/{name}"] == rules[t, j]
        assert reward == pytest.approx(expect_prior + rules[t].sum() / c, abs=1e-5)
        np.testing.assert_allclose(info["prior_log_probs"], log_p[len(primer) + t], atol=1e-5)
        assert info["prior_log_probs"].dtype == np.float32


@pytest.mark.parametrize(
    ("mode", "expect"), [("rules", lambda i, c: i["music_theory"] / c), ("prior", lambda i, c: i["log_prior"])]
)
def test_reward_modes(rnn, mode, expect):
    env = MelodyComposeEnv(checkpoint=rnn, reward_mode=mode, c=0.5)
    env.reset(seed=0)
    for _, reward, _, _, info in play(env, [14, 16, 18, 1, 0, 30]):
        assert reward == pytest.approx(expect(info, 0.5))


def test_rule_weights_mapping(rnn):
    actions = [14, 14, 21, 1, 0, 15, 2]  # 15 = C#4, out of C major
    base = MelodyComposeEnv(checkpoint=rnn)
    heavy = MelodyComposeEnv(checkpoint=rnn, rules={"intervals": 2.0, "key": 0.0})
    base.reset(seed=0), heavy.reset(seed=0)
    infos = [(i0, i1) for (*_, i0), (*_, i1) in zip(play(base, actions), play(heavy, actions), strict=True)]
    assert any(i0["rules/intervals"] != 0 for i0, _ in infos) and any(i0["rules/key"] != 0 for i0, _ in infos)
    for i0, i1 in infos:
        assert i1["rules/intervals"] == 2 * i0["rules/intervals"]
        assert i1["rules/key"] == 0.0


# ----------------------------------------------------------------------------------- priming
def test_random_primer_comes_from_np_random(rnn):
    env = MelodyComposeEnv(checkpoint=rnn)
    obs, _ = env.reset(seed=5)
    assert obs["note"] == seeding.np_random(5)[0].integers(2, 38)
    with torch.no_grad():
        _, (h, c) = rnn.step(torch.tensor([int(obs["note"])]))
    np.testing.assert_allclose(obs["h"], h[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(obs["c"], c[0].numpy(), atol=1e-6)
    notes = {int(env.reset()[0]["note"]) for _ in range(400)}
    assert notes == set(range(2, 38))  # every onset class, never 0 or 1


def test_sequence_and_file_primers(rnn, tmp_path):
    env = MelodyComposeEnv(checkpoint=rnn, primer=[14, 1, 1, 16], max_primer_length=16)
    obs, info = env.reset(seed=0)
    with torch.no_grad():
        logits, (h, _) = rnn(torch.tensor([[14, 1, 1, 16]]))
    assert obs["note"] == 16 and obs["position"] == 0
    np.testing.assert_allclose(obs["h"], h[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(info["prior_log_probs"], torch.log_softmax(logits[0, -1], 0).numpy(), atol=1e-5)
    path = tmp_path / "primer.abc"
    path.write_text("X:1\nT:primer\nM:4/4\nL:1/8\nK:C\nCDEF GABc|\n")
    scale = [14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 23, 1, 25, 1, 26, 1]
    obs, _ = env.reset(options={"primer": path})  # once, then back to the constructor's primer
    np.testing.assert_array_equal(env.unwrapped.primer, scale)
    assert env.reset()[0]["note"] == 16
    np.testing.assert_array_equal(MelodyComposeEnv(checkpoint=rnn, primer=str(path)).core.primer, scale)


def test_corpus_primer(rnn, tmp_path, monkeypatch):
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tunes"
    folder.mkdir()
    scale = "CDEFGABcdefgab"
    tunes = [f"X:{i}\nT:t{i}\nM:4/4\nL:1/8\nK:C\n{scale[i : i + 8]}|{scale[i : i + 8][::-1]}|\n" for i in range(6)]
    (folder / "tunes.abc").write_text("\n".join(tunes))
    env = MelodyComposeEnv(checkpoint=rnn, primer="corpus", corpus=str(folder), corpus_primer_steps=3)
    train = load_corpus(folder).train
    assert len({tuple(m[:3]) for m in train}) >= 3
    for seed in range(10):
        env.reset(seed=seed)
        expect = train[seeding.np_random(seed)[0].integers(len(train))][:3]  # a uniform training melody
        np.testing.assert_array_equal(env.primer, expect)


# ------------------------------------------------------------------------- arguments, errors
@pytest.mark.parametrize("action", [38, -1, np.int64(40)])
def test_out_of_range_action(rnn, action):
    env = MelodyComposeEnv(checkpoint=rnn)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"0\.\.37"):
        env.step(action)


@pytest.mark.parametrize("action", [1.0, True, np.array([3]), "C4", None])
def test_wrong_action_type(rnn, action):
    env = MelodyComposeEnv(checkpoint=rnn)
    env.reset(seed=0)
    with pytest.raises(TypeError, match="action must be"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"c": 0}, ValueError, "c must be"),
        ({"reward_mode": "both"}, ValueError, "reward_mode"),
        ({"key": "H major"}, ValueError, "key"),
        ({"key": 3}, TypeError, "key"),
        ({"rules": {"swing": 1.0}}, ValueError, "unknown rule"),
        ({"rules": ["key"]}, TypeError, "rules"),
        ({"primer": "missing.mid"}, ValueError, "neither"),
        ({"primer": [40]}, ValueError, "primer"),
        ({"primer": []}, ValueError, "primer"),
        ({"primer": [14, 16], "max_primer_length": 1}, ValueError, "max_primer_length=1 is shorter"),
        ({"max_primer_length": 0}, ValueError, "max_primer_length must be"),
        ({"torch_threads": 0}, ValueError, "torch_threads must be"),
        ({"melody_length": 0}, ValueError, "melody_length"),
        ({"render_mode": "video"}, ValueError, "render_mode"),
        ({"checkpoint": 5}, TypeError, "checkpoint"),
    ],
)
def test_bad_arguments(rnn, kwargs, error, match):
    kwargs = {"checkpoint": rnn, **kwargs}
    with pytest.raises(error, match=match):
        MelodyComposeEnv(**kwargs)


def test_unknown_reset_option(rnn):
    with pytest.raises(ValueError, match="reset options"):
        MelodyComposeEnv(checkpoint=rnn).reset(options={"prime": "random"})


def test_checkpoint_is_frozen_copy(rnn, tmp_path):
    rnn.train()
    env = MelodyComposeEnv(checkpoint=rnn, key=Key(9, "minor"))
    frozen = env.reward_rnn
    assert frozen is not rnn and not frozen.training and not any(p.requires_grad for p in frozen.parameters())
    assert rnn.training and all(p.requires_grad for p in rnn.parameters())  # the caller's module untouched
    assert env.core.key == Key.parse("A minor")
    rnn.save(tmp_path / "rnn")
    from_path = MelodyComposeEnv(checkpoint=tmp_path / "rnn")
    np.testing.assert_array_equal(from_path.reset(seed=1)[0]["h"], env.reset(seed=1)[0]["h"])


# ----------------------------------------------------------------------------------- render
def test_render_ansi_and_rgb(rnn):
    env = MelodyComposeEnv(render_mode="ansi", checkpoint=rnn, primer=[26])
    env.reset(seed=0)
    play(env, [14, 1, 0, 16] + [1] * 14)
    assert env.render() == "[C5] C4 - off D4" + " -" * 12 + " | - -"
    env = MelodyComposeEnv(render_mode="rgb_array", checkpoint=rnn)
    env.reset(seed=0)
    empty = env.render()
    assert empty.dtype == np.uint8 and empty.ndim == 3 and empty.shape[2] == 3
    env.step(14)
    frame = env.render()
    assert frame.shape == empty.shape and (frame != empty).any()  # same size every step, a note appeared
    with pytest.warns(UserWarning, match="render_mode"):
        assert MelodyComposeEnv(checkpoint=rnn).render() is None


# -------------------------------------------------------------------------------- check_env
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_gymnasium_check_env(rnn, render_mode):
    env = gym.make("MelodyCompose-v0", checkpoint=rnn, render_mode=render_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning is recorded, none ignored
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
