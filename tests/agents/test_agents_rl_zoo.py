"""rl-zoo3 trains an RLTuner through its own entry point, with QTuner in its ALGOS."""

import sys

import pytest
import rl_zoo3.train
import rl_zoo3.utils

from agents import QTuner

HYPERPARAMETERS = """\
MelodyCompose-v0:
  n_timesteps: 64
  policy: RLTunerPolicy
  n_envs: 2
  learning_rate: 0.001
  exploration_fraction: 0.5
"""


def test_rl_zoo3_train_entry_point(note_rnn, tmp_path, monkeypatch):
    checkpoint = note_rnn.save(tmp_path / "note_rnn")
    config = tmp_path / "rltuner_q.yml"
    config.write_text(HYPERPARAMETERS)
    monkeypatch.setitem(rl_zoo3.utils.ALGOS, "rltuner_q", QTuner)
    monkeypatch.chdir(tmp_path)
    argv = ["train.py", "--algo", "rltuner_q", "--env", "MelodyCompose-v0", "--gym-packages", "melody_env",
            "-conf", str(config), "-f", str(tmp_path / "logs"), "--seed", "0", "--eval-freq", "32",
            "--eval-episodes", "2", "--save-freq", "32", "--verbose", "0",
            # on the command line, the env arguments reach the evaluation env too (the file's reach training only)
            "--env-kwargs", f"checkpoint:'{checkpoint}'", "melody_length:8"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    rl_zoo3.train.train()
    run = tmp_path / "logs" / "rltuner_q" / "MelodyCompose-v0_1"
    model = QTuner.load(run / "MelodyCompose-v0.zip")
    assert model.num_timesteps == 64 and model.algorithm == "q"
    assert model.exploration_rate == pytest.approx(0.1)  # the zoo's budget, half of it exploring
    assert (run / "best_model.zip").is_file() and (run / "evaluations.npz").is_file()
    saved = sorted(p.name for p in run.glob("rl_model_*_steps.zip"))
    assert saved == ["rl_model_32_steps.zip", "rl_model_64_steps.zip"]
