"""``rl-tuner sweep --outside N`` on a tiny hand-written reference: each seed's outside.json, adding it to a
finished sweep from model.zip, the aggregation across seeds, and the error without a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import benchmarks.sweep.engine as engine
import benchmarks.sweep.outside as sweep_outside
from benchmarks.outside.features import FEATURE_NAMES
from benchmarks.outside.measures import rule_free_means
from benchmarks.sweep.cli import main as sweep
from benchmarks.sweep.grid import SweepConfig, TrialSpec, grid_trials
from benchmarks.sweep.outside import OUTSIDE_FILE, ReferenceSource
from benchmarks.sweep.outside_report import outside_markdown, summarise_outside
from benchmarks.sweep.trial import CURVE_FILE, MODEL_FILE, STATS_FILE, pending, run_trial, seed_dir

_ = 1  # hold the note
TUNES = np.array([  # six C-major tunes of 4 bars: C4 = 14, D4 = 16, E4 = 18, F4 = 19, G4 = 21, A4 = 23
    [14, _, 16, _, 18, _, 19, _, 21, _, _, _, 19, _, 18, _, 16, _, 14, _, 16, _, 18, _, 14, _, _, _, _, _, _, _],
    [21, _, _, _, 19, _, 18, _, 16, _, 18, _, 19, _, _, _, 18, _, 16, _, 14, _, _, _, 16, _, 14, _, _, _, _, _],
    [14, _, _, _, 18, _, _, _, 21, _, _, _, 18, _, _, _, 19, _, 16, _, 14, _, 16, _, 18, _, _, _, 14, _, _, _],
    [18, _, 19, _, 21, _, 23, _, 21, _, 19, _, 18, _, 16, _, 14, _, _, _, 16, _, _, _, 18, _, _, _, _, _, _, _],
    [16, _, 18, _, 16, _, 14, _, 16, _, 18, _, 19, _, 21, _, 19, _, 18, _, 16, _, 18, _, 14, _, _, _, _, _, _, _],
    [21, _, 23, _, 21, _, 19, _, 18, _, _, _, 16, _, _, _, 14, _, 16, _, 18, _, 19, _, 21, _, _, _, _, _, _, _],
])  # fmt: skip


def _tunes() -> np.ndarray:
    return TUNES


TINY = ReferenceSource(_tunes, pairs=200, key_sample=4)
CELLS = ("note_rnn", "q/c=0.5")


def _argv(out: Path, outside: int) -> list[str]:
    return ["--algorithms", "q", "--seeds", "1", "--steps", "320", "--melodies", "20", "--n-envs", "32",
            "--out", str(out), "--outside", str(outside)]  # fmt: skip


def _config(out: Path, outside: int) -> SweepConfig:
    return SweepConfig(algorithms=("q",), seeds=1, steps=320, melodies=20, n_envs=32, out=str(out), outside=outside)


def _run_here(config: SweepConfig, specs: list[TrialSpec], write: object) -> list[str]:
    """``run_on_ray`` without Ray: the trials one after the other in this process."""
    for spec in specs:
        run_trial(spec, config.out)
    return []


@pytest.fixture(autouse=True)
def tiny_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The six tunes above as the reference, and the trials run in this process instead of on Ray."""
    monkeypatch.setattr(sweep_outside, "SOURCE", TINY)
    monkeypatch.setattr(engine, "run_on_ray", _run_here)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of the Note RNN and Q (one seed) trained and measured with ``--outside 12``."""
    out = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_outside, "SOURCE", TINY)
        for spec in grid_trials(_config(out, 12)):
            run_trial(spec, out)
    return out


def _copy(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "sweep"))


def _without_timing(result: dict) -> dict:
    outside = {**result["outside"], "key": {k: v for k, v in result["outside"]["key"].items() if k != "seconds"}}
    return {**result, "outside": outside, "seconds": None}


def test_outside_json_holds_its_identity_and_leaves_the_stats_identity_alone(finished: Path) -> None:
    for cell in CELLS:
        folder = seed_dir(finished, cell, 0)
        stats, result = (json.loads((folder / name).read_text()) for name in (STATS_FILE, OUTSIDE_FILE))
        assert result["identity"] == {**stats["identity"], "outside_melodies": 12, "pairs": 200, "key_sample": 4}
        assert "outside" not in stats["identity"] and result["cell"] == cell
        assert result["outside"]["melodies"] == 12 and set(result["outside"]["features"]) == set(FEATURE_NAMES)
        assert result["outside"]["key"]["analysed"] + result["outside"]["key"]["no_notes"] == 4
        assert result["reference"]["melodies"] == len(TUNES) and result["seconds"] > 0
    assert pending(grid_trials(_config(finished, 0)), finished) == []  # without --outside: finished as before
    assert pending(grid_trials(_config(finished, 12)), finished) == []


def test_rerun_adds_outside_from_model_zip_without_retraining(finished: Path, tmp_path: Path) -> None:
    out = _copy(finished, tmp_path)
    after_training = {}
    for cell in CELLS:  # as if the sweep had finished without --outside
        after_training[cell] = json.loads((seed_dir(out, cell, 0) / OUTSIDE_FILE).read_text())
        (seed_dir(out, cell, 0) / OUTSIDE_FILE).unlink()
    q = seed_dir(out, "q/c=0.5", 0)
    files = [q / MODEL_FILE, q / CURVE_FILE, q / STATS_FILE, seed_dir(out, "note_rnn", 0) / STATS_FILE]
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    assert pending(grid_trials(_config(out, 12)), out) == grid_trials(_config(out, 12))

    assert sweep(_argv(out, 12)) == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == stamps  # nothing retrained or rescored
    for cell in CELLS:
        again = json.loads((seed_dir(out, cell, 0) / OUTSIDE_FILE).read_text())
        assert _without_timing(again) == _without_timing(after_training[cell])
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["outside"]["cells"]) == set(CELLS) and summary["settings"]["outside"] == 12
    assert "outside: 12 melodies per model and seed" in (out / "table1.md").read_text()
    assert "## Summary: mean over seeds [95 % interval]" in (out / "outside.md").read_text()

    assert sweep(_argv(out, 16)) == 0  # another N is another identity: measured anew
    assert json.loads((q / OUTSIDE_FILE).read_text())["outside"]["melodies"] == 16
    assert {p: p.stat().st_mtime_ns for p in files} == {p: s[0] for p, s in stamps.items()}


def test_a_finished_seed_without_its_model_is_one_clear_error(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = _copy(finished, tmp_path)
    q = seed_dir(out, "q/c=0.5", 0)
    (q / MODEL_FILE).unlink()
    assert sweep(_argv(out, 12)) == 0  # its outside.json is there: the model is not needed
    capsys.readouterr()
    (q / OUTSIDE_FILE).unlink()
    assert sweep(_argv(out, 12)) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-tuner sweep: error:") and err.count("\n") == 1
    assert f"{q} has a finished seed but no model.zip" in err and f"delete {q / STATS_FILE} to retrain" in err


def test_outside_flag_is_checked_and_carried_to_the_trials() -> None:
    with pytest.raises(ValueError, match="--outside must be a non-negative integer"):
        SweepConfig(outside=-1)
    spec = grid_trials(SweepConfig(algorithms=("q",), seeds=1, outside=7))[1]
    assert spec.outside == 7 and TrialSpec.from_dict(spec.to_dict()) == spec
    assert spec.identity(0) == grid_trials(SweepConfig(algorithms=("q",), seeds=1))[1].identity(0)
    space = engine.search_space(SweepConfig(algorithms=("q",), outside=7, ranges={"c": (0.1, 1.0)}, search="optuna"))
    assert engine.sampled_spec({**space, "algorithm": "q", "c": 0.5}).outside == 7


def _measured(seed: int, overlap_area: float, kl: float | None, share: float) -> dict:
    """An ``outside.json`` with every feature at ``overlap_area`` and ``kl`` (None: undefined)."""
    features = {name: {"overlap_area": overlap_area, "kl_divergence": kl} for name in FEATURE_NAMES}
    means = rule_free_means({n: {"overlap_area": overlap_area, "kl_divergence": kl or np.nan} for n in FEATURE_NAMES})
    reference = {
        "melodies": 6,
        "key": {"share_c_major_or_a_minor": 1.0, "mean_correlation": 0.9},
        "features": {n: {"split_half": {"overlap_area": 0.9, "kl_divergence": 0.01}} for n in FEATURE_NAMES},
    }
    key = {"share_c_major_or_a_minor": share, "mean_correlation": 0.8}
    return {"identity": {"seed": seed, "pairs": 200, "key_sample": 4}, "reference": reference,
            "outside": {"features": features, **means, "key": key}}  # fmt: skip


def test_aggregation_across_seeds_on_hand_checkable_numbers() -> None:
    outside = {
        "note_rnn": [_measured(s, 0.5, 0.25, 0.25) for s in range(3)],
        "q/c=0.5": [_measured(0, 0.2, 0.4, 0.5), _measured(1, 0.4, None, 1.0)],
    }
    summary = summarise_outside(outside, 12)
    assert (summary["melodies"], summary["pairs"], summary["key_sample"]) == (12, 200, 4)
    constant = summary["cells"]["note_rnn"]
    assert constant["n_seeds"] == 3 and constant["seeds"] == [0, 1, 2]
    oa = constant["rule_free_overlap_area"]
    assert oa["mean"] == 0.5 and oa["ci"] == [0.5, 0.5] and oa["per_seed"] == [0.5, 0.5, 0.5]  # zero width
    assert constant["features"]["pitch_range"]["kl_divergence"]["ci"] == [0.25, 0.25]
    q = summary["cells"]["q/c=0.5"]
    assert q["rule_free_overlap_area"]["mean"] == pytest.approx(0.3) and q["ruled_overlap_area"]["ci"] == [0.2, 0.4]
    kl = q["features"]["pitch_range"]["kl_divergence"]
    assert kl["per_seed"] == [0.4, None] and kl["n"] == 1 and kl["mean"] == 0.4  # the undefined seed is skipped
    assert q["key_share"]["mean"] == 0.75 and q["key_correlation"]["ci"] == [0.8, 0.8]
    assert summary["closest"] == [["note_rnn", 0.5], ["q/c=0.5", pytest.approx(0.3)]]
    reference = summary["reference"]
    assert reference["rule_free_overlap_area"] == pytest.approx(0.9) and reference["key_share"] == 1.0
    assert reference["split_half"]["pitch_range"] == {"overlap_area": 0.9, "kl_divergence": 0.01}

    text = outside_markdown({"command": "rl-tuner sweep --outside 12", "outside": summary})
    assert "Settings: 12 melodies per model and seed" in text and "6 validation openings" in text
    assert "**Closest to real tunes on the features no rule measures (pitch range, pitch-class entropy, " \
           "groove consistency): Note RNN, 3 seeds**, mean OA 0.500 against 0.900" in text  # fmt: skip
    assert "| validation halves (reference) | 0.900 | 0.010 | 0.900 | 0.010 | 100.0 % | 0.900 |" in text
    assert "| Note RNN, 3 seeds | 0.500 [0.500, 0.500] | 0.250 [0.250, 0.250] | 0.500 | 0.250 | " \
           "25.0 % [25.0 %, 25.0 %] | 0.800 |" in text  # fmt: skip
    # t-interval of (0.2, 0.4): 0.3 ± t(1, 0.975) · 0.1414 / √2 = 0.3 ± 1.2706; one seed: no interval.
    assert "| Q, c=0.5, 2 seeds | 0.300 [-0.971, 1.571] | 0.400 |" in text
    assert "| feature | rules | validation halves | Note RNN, 3 seeds | Q, c=0.5, 2 seeds |" in text
    assert "| pitch range (semitones) | none | 0.900 | 0.500 [0.500, 0.500] | 0.300 [-0.971, 1.571] |" in text
    assert "## KL divergence per feature (lower is closer to real tunes): mean over seeds" in text
    empty = outside_markdown({"command": "c", "outside": summarise_outside({"note_rnn": []}, 12)})
    assert "No seed has outside measures yet." in empty
