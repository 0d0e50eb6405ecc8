from __future__ import annotations

import json

import pytest

from molecule_env.data import load_smiles
from molecule_env.prior import load_smiles_prior
from molecule_env.training import TrainingDivergedError, main, train_smiles_prior


@pytest.fixture(scope="module")
def smiles():
    return load_smiles("moses:test", limit=600, seed=0).smiles


def test_training_lowers_the_loss_and_saves_a_prior_that_loads(smiles, tmp_path):
    path = tmp_path / "prior"
    result = train_smiles_prior(
        smiles, hidden_size=32, iterations=60, eval_every=30, valid_size=100, checkpoint_path=path, progress=False
    )
    first, last = result.history[0]["val_loss"], result.history[-1]["val_loss"]
    assert last < first and result.best_val_loss == min(first, last)
    prior = load_smiles_prior(path)
    assert prior.vocabulary.tokens == result.tokens and prior.model.hidden_size == 32
    assert prior.metadata["step"] == result.best_step


def test_training_is_reproducible_for_a_seed(smiles):
    runs = [train_smiles_prior(smiles, hidden_size=8, iterations=5, eval_every=5, valid_size=100, progress=False)
            for _ in range(2)]  # fmt: skip
    assert runs[0].best_val_loss == runs[1].best_val_loss


def test_a_nan_stops_training_and_keeps_the_last_good_checkpoint(smiles, tmp_path, monkeypatch):
    from molecule_env import training

    real, calls = training.sequence_loss, []

    def nan_from_step_two(model, batch):  # calls: step 1, its validation, step 2 (NaN)
        calls.append(1)
        loss, count = real(model, batch)
        return (loss * float("nan") if len(calls) >= 3 else loss), count

    monkeypatch.setattr(training, "sequence_loss", nan_from_step_two)
    path = tmp_path / "prior"
    with pytest.raises(TrainingDivergedError, match=r"diverged at step 2: the loss is nan;.* keeps the best weights"):
        train_smiles_prior(
            smiles, hidden_size=8, iterations=20, eval_every=1, valid_size=100, checkpoint_path=path, progress=False
        )
    assert load_smiles_prior(path).metadata["step"] == 1


def test_the_command_writes_a_summary_and_refuses_a_bad_corpus(tmp_path, capsys):
    out = tmp_path / "p"
    code = main(["--corpus", "moses:test", "--limit", "300", "--valid-size", "50", "--iterations", "4",
                 "--eval-every", "2", "--hidden-size", "8", "--out", str(out), "--no-progress"])  # fmt: skip
    assert code == 0
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["steps"] == 4 and "300 SMILES kept" in summary["corpus"]
    assert main(["--corpus", str(tmp_path / "missing.smi"), "--out", str(out)]) == 2
    assert "no SMILES file" in capsys.readouterr().err
