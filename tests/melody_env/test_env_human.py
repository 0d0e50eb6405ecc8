"""render_mode="human": a pygame window of the piano roll, or one clear line when pygame is missing."""

import builtins

import gymnasium as gym
import pytest
from gymnasium.error import DependencyNotInstalled

import melody_env  # noqa: F401 - registers MelodyCompose-v0


def test_human_mode_draws_every_step(monkeypatch):
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gym.make("MelodyCompose-v0", render_mode="human")
    shown = []
    window = env.unwrapped._window
    monkeypatch.setattr(window, "show", lambda frame: shown.append(frame.shape))
    env.reset(seed=0)
    env.step(5)
    assert env.render() is None and len(shown) == 2 and shown[0][2] == 3
    env.close()


def test_human_mode_without_pygame_is_one_line_at_make(monkeypatch):
    real_import = builtins.__import__

    def no_pygame(name, *args, **kwargs):
        if name == "pygame":
            raise ImportError("No module named 'pygame'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygame)
    with pytest.raises(DependencyNotInstalled, match=r"rl-tuner\[human\]"):
        gym.make("MelodyCompose-v0", render_mode="human")
