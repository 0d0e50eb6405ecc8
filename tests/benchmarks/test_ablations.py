"""The ablation runner and its report: gap closed, seed ranges apart, cells kept and read back."""

import json

import pytest
import torch

import benchmarks.ablations.run as ablations
from benchmarks.ablations.report import OWN, ROWS, apart, compare_cells, compare_statistic, gap_closed, supported
from melody_env.note_rnn import NoteRNN, NoteRNNConfig


def test_gap_closed_by_hand():
    assert gap_closed(0.10, 0.30, 0.50) == pytest.approx(0.5)
    assert gap_closed(0.10, 0.00, 0.50) == pytest.approx(-0.25)  # away from the paper
    assert gap_closed(0.10, 0.60, 0.50) == pytest.approx(1.25)  # past it
    assert gap_closed(0.10, 0.30, None) is None and gap_closed(0.5, 0.3, 0.5) is None


def test_ranges_apart_by_hand():
    assert apart({"min": 1.0, "max": 2.0}, {"min": 2.5, "max": 3.0})
    assert apart({"min": 1.0, "max": 2.0}, {"min": -1.0, "max": 0.5})
    assert not apart({"min": 1.0, "max": 2.0}, {"min": 1.9, "max": 3.0})


def test_compare_statistic_shows_the_gap_only_beyond_the_seed_range():
    row = compare_statistic([0.1, 0.2, 0.3], [0.5, 0.6, 0.7], 0.9)
    assert row["off"]["mean"] == pytest.approx(0.2) and row["on"]["max"] == 0.7
    assert row["gap_closed"] == pytest.approx(0.4 / 0.7) and row["apart"]
    near = compare_statistic([0.1, 0.2, 0.3], [0.25, 0.3, 0.35], 0.25)  # |0.25 − 0.2| < range 0.2
    assert near["gap_closed"] is None and not near["apart"]
    assert supported({"notes_not_in_key": row}) == ["notes not in key 20.00 % → 60.00 %, toward the paper's 90.00 %"]


def _cell(models, baseline=None):
    return {"title": "t", "baseline": baseline, "models": models}


def test_compare_cells_pairs_a_drifted_g_with_the_baseline_log_p():
    stats = {**dict.fromkeys(ROWS, 0.0), "mean_log_prior": -2.0}
    off = {"g": {"0": {**stats, "mean_log_prior": -1.5}, "1": {**stats, "mean_log_prior": -1.6}}}
    on = {"g": {"0": {**stats, OWN: -1.0}, "1": {**stats, OWN: -1.1}}, "q": {"0": stats, "1": stats}}
    rows = compare_cells(_cell(on, "default"), _cell(off))["g"]
    assert set(rows) >= {"notes_not_in_key", "mean_log_prior", OWN}
    assert rows[OWN]["off"]["mean"] == pytest.approx(-1.55) and rows[OWN]["on"]["mean"] == pytest.approx(-1.05)
    assert rows["mean_log_prior"]["on"]["mean"] == pytest.approx(-2.0)
    assert "q" not in compare_cells(_cell(on, "default"), _cell(off))  # no Q in the baseline: nothing to compare


def test_label_cells_run_are_kept_and_read_back(tmp_path, monkeypatch):
    torch.manual_seed(0)
    for name in ("original", "control"):
        NoteRNN(NoteRNNConfig(hidden_size=8)).save(tmp_path / f"nr_{name}")
    argv = ["--cells", "labels_control,labels_original", "--seeds", "2", "--steps", "128", "--melodies", "20",
            "--n-envs", "16", "--note-rnn-original", str(tmp_path / "nr_original"),
            "--note-rnn-control", str(tmp_path / "nr_control"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert ablations.main(argv) == 0
    cell = json.loads((tmp_path / "out" / "cells" / "labels_original.json").read_text())
    assert set(cell["models"]) == {"note_rnn", "q"} and set(cell["models"]["q"]) == {"0", "1"}
    assert cell["identity"]["steps"] == 128 and cell["command"].endswith(str(tmp_path / "out"))
    report = json.loads((tmp_path / "out" / "ablations.json").read_text())
    assert list(report["comparisons"]) == ["labels_original"]
    assert set(report["comparisons"]["labels_original"]["models"]) == {"note_rnn", "q"}
    text = (tmp_path / "out" / "ablations.md").read_text()
    assert "`labels_original` against `labels_control`" in text and "| notes excessively repeated |" in text
    assert not list((tmp_path / "out").glob(".*tmp"))  # written atomically
    monkeypatch.setattr(ablations, "train", lambda *a: pytest.fail("a finished cell was retrained"))
    assert ablations.main(argv) == 0
    with pytest.raises(ValueError, match="other settings"):
        ablations.main([*argv[:5], "256", *argv[6:]])
    assert json.loads((tmp_path / "out" / "provenance.json").read_text())["command"] == cell["command"]
    # A cell of other code: refused unless allowed, and then said.
    path = tmp_path / "out" / "cells" / "labels_control.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "code": {"commit": "f" * 40, "dirty": False}}))
    with pytest.raises(ValueError, match="different code"):
        ablations.main(argv)
    assert ablations.main([*argv, "--allow-mixed-commits"]) == 0
    assert "**These results mix code of 2 commits**" in (tmp_path / "out" / "ablations.md").read_text()


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="--cells must be 'all' or names from default"):
        ablations.parse_dataclass(ablations.Args, ["--cells", "clip"], "x")
