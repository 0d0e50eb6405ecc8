"""The ``rl-tuner`` subcommands run end to end on tiny inputs, and every mistake is one line with exit code 2."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from melody_env.encoding import notes_to_melody, read_melody, read_primed, transpose_melody, write_midi
from rl_tuner_cli.main import _FORWARDED, build_parser, main

DATA = Path(__file__).parents[1] / "melody_env" / "data"
D_MAJOR_SCALE = notes_to_melody([62, 64, 66, 67, 69, 71, 73, 74], range(0, 32, 4), range(4, 36, 4))


def subcommands() -> list[str]:
    """Every subcommand ``rl-tuner`` knows, the forwarded ones included."""
    parser = build_parser()
    (action,) = (a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def exit_code(argv: list[str]) -> int:
    """What ``rl-tuner argv`` exits with: ``main``'s return value or argparse's ``SystemExit`` code."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The single stderr line of a failed command (asserting it is one line from ``rl-tuner <command>``)."""
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"rl-tuner {command}: error: ") and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def tuner_zip(tmp_path_factory) -> Path:
    """A ψ tuner trained for 320 steps through ``rl-tuner train``."""
    out = tmp_path_factory.mktemp("tuner") / "psi"
    assert main(["train", "--algorithm", "psi", "--steps", "320", "--melodies", "8", "--out", str(out),
                 "--verbose", "0"]) == 0  # fmt: skip
    return out.with_suffix(".zip")


@pytest.fixture
def d_major(tmp_path: Path) -> Path:
    return write_midi(D_MAJOR_SCALE, tmp_path / "d_major.mid")


def test_generate_then_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--n", "2", "--length", "16", "--wav", "--png", "--out", str(tmp_path)]) == 0
    midi = tmp_path / "melody_000.mid"
    assert {p.name for p in tmp_path.iterdir()} >= {"melody_000.mid", "melody_001.wav", "melody_001.png"}
    lines = capsys.readouterr().out.splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert "'-' holds the sounding note or rest one more 16th, 'off' starts a rest" in header[0]
    primer, melody = read_primed(midi)  # the random primer note is written before the melody
    assert len(primer) == 1 and primer[0] >= 2 and len(melody) == 16
    printed = lines[len(header)]
    assert printed.startswith(f"{midi}: [") and printed.split("] ")[1].count("|") == 0  # 16 steps: one bar
    (tmp_path / "melody_000.wav").unlink()
    assert main(["render", str(midi), "--wav"]) == 0
    wav = tmp_path / "melody_000.wav"
    assert wav.stat().st_size == 44 + 2 * round(17 * 60 / 80 / 4 * 22050)  # primer + 16 steps at 80 qpm


def test_generate_is_seeded(tmp_path: Path) -> None:
    for name in ("a", "b"):
        main(["generate", "--n", "3", "--seed", "5", "--out", str(tmp_path / name)])
    for i in range(3):
        a, b = (read_melody(tmp_path / n / f"melody_{i:03d}.mid") for n in ("a", "b"))
        np.testing.assert_array_equal(a, b)


def test_generate_continues_a_primer_in_its_key(tmp_path, d_major, capsys) -> None:
    out = tmp_path / "out"
    assert main(["generate", "--n", "2", "--length", "8", "--primer", str(d_major), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "estimated key D major / B minor" in text and "transposed down 2 semitones" in text
    primer, melody = read_primed(out / "melody_000.mid")
    np.testing.assert_array_equal(primer, D_MAJOR_SCALE)  # the primer as written in the file
    # the Note RNN composed in C after the C major scale; the file holds that melody 2 semitones up
    import torch

    from melody_env.note_rnn import load_default_note_rnn

    generator = torch.Generator().manual_seed(0)
    c_scale = torch.as_tensor(transpose_melody(D_MAJOR_SCALE, -2)).expand(2, -1)
    in_c = load_default_note_rnn().sample(2, 8, c_scale, 1.0, generator).numpy()
    np.testing.assert_array_equal(melody, transpose_melody(in_c[0], 2))


def test_generate_with_agent_honours_primer_and_length(tmp_path, tuner_zip, d_major, capsys) -> None:
    out = tmp_path / "agent"
    args = ["generate", "--agent", str(tuner_zip), "--n", "2", "--length", "5", "--primer", str(d_major)]
    assert main([*args, "--out", str(out)]) == 0
    primer, melody = read_primed(out / "melody_001.mid")
    np.testing.assert_array_equal(primer, D_MAJOR_SCALE)
    assert len(melody) == 5
    assert main(["generate", "--agent", str(tuner_zip), "--n", "1", "--out", str(out / "default")]) == 0
    assert len(read_primed(out / "default" / "melody_000.mid")[1]) == 32  # the tuner's melody length
    assert "transposed down 2" in capsys.readouterr().out


def test_corpus_summary_counts_skipped_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    assert main(["corpus", str(DATA)]) == 0
    out = capsys.readouterr().out.splitlines()
    # tiny.abc: 4 tunes, one unparsable and one with too few pitches, so 2 melodies.
    assert "tunes: 4" in out and "melodies: 2" in out
    assert "skipped: {'too_few_pitches': 1, 'unparsable': 1}" in out
    assert "(2 files or tunes gave no melody; --verbose lists them)" in out
    assert main(["corpus", str(DATA), "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == ["skipped files and tunes (2):", "  tiny.abc#2: unparsable", "  tiny.abc#3: too_few_pitches"]


def test_corpus_of_generated_melodies_needs_lower_minimums(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "generated"
    assert main(["generate", "--n", "3", "--out", str(folder)]) == 0  # 1 + 32 steps: about 2 bars each
    (folder / "corrupt.mid").write_bytes(b"MThd not really")
    capsys.readouterr()
    assert main(["corpus", str(folder)]) == 2
    err = one_error_line(capsys, "corpus")
    assert "'too_short': 3" in err and "lower the minimum with --min-bars" in err
    assert main(["corpus", str(folder), "--min-bars", "2", "--min-pitches", "1", "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "melodies: 3" in out and "  corrupt.mid: unparsable" in out  # corrupt files: skipped, never fatal


def test_train_note_rnn_names_an_empty_validation_split(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RL_TUNER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "one_tune"
    folder.mkdir()
    write_midi(np.tile(D_MAJOR_SCALE, 4), folder / "tune.mid")  # 8 bars: one melody, one tune
    train = ["train-note-rnn", "--source", str(folder), "--out", str(tmp_path / "nr"), "--no-progress"]
    assert main([*train, "--iterations", "2"]) == 2
    assert "validation split is empty (1 training, 0 validation melodies)" in one_error_line(capsys, "train-note-rnn")
    assert main([*train, "--valid-fraction", "1.5"]) == 2
    assert "--valid-fraction must be in (0, 1), got 1.5" in one_error_line(capsys, "train-note-rnn")
    write_midi(np.tile(D_MAJOR_SCALE, 4), folder / "tune2.mid")  # two tunes: one is held out
    tiny = ["--iterations", "2", "--eval-every", "1", "--batch-size", "2", "--window", "16", "--valid-fraction", "0.5"]
    assert main([*train, *tiny]) == 0
    assert "corpus: 1 training, 1 validation melodies" in capsys.readouterr().out


def bad_inputs(tmp: Path) -> list[tuple[str, list[str], str]]:
    """(subcommand, arguments, part of the one error line) for each subcommand."""
    corrupt_zip = tmp / "corrupt.zip"
    corrupt_zip.write_bytes(b"PK not a zip")
    (tmp / "nr.json").write_text("{broken")
    (tmp / "nr.safetensors").write_bytes(b"")
    (tmp / "garbage.mid").write_bytes(b"\x00\x17 not a midi file \xff" * 10)
    return [
        ("generate", ["--n", "0"], "argument --n: must be a positive integer, got '0'; see rl-tuner generate --help"),
        ("generate", ["--primer", str(tmp / "missing.mid")], "missing.mid is not a file; pass a MIDI"),
        ("generate", ["--primer", str(tmp / "garbage.mid")], "cannot read"),
        ("generate", ["--agent", str(corrupt_zip)], "corrupt.zip"),
        ("generate", ["--checkpoint", str(tmp / "nr")], "is not valid JSON"),
        ("generate", ["--agent", "a.zip", "--checkpoint", "b"], "not allowed with argument"),
        ("generate", ["--temperature", "-1"], "must be a number >= 0"),
        ("render", [str(tmp / "missing.mid")], "is not a file"),
        ("corpus", [str(tmp / "missing")], "does not exist; pass 'music21' or an existing folder"),
        ("train", ["--algorithm", "dqn"], "--algorithm must be one of q, psi, g, rl_only, got 'dqn'"),
        ("train", ["--steps", "0"], "--steps must be a positive integer, got 0"),
        ("train", ["--steps", "many"], "invalid int value: 'many'"),
        ("train", ["--steps", "8", "--checkpoint", str(tmp / "nr")], "is not valid JSON"),
        ("train-note-rnn", ["--source", str(tmp / "missing")], "does not exist"),
        ("train-note-rnn", ["--window", "1"], "--window must be an integer >= 2"),
        ("reproduce", ["--scale", "huge", "--out", str(tmp / "r")], "--scale must be one of"),
        ("demo", ["--algorithms", "dqn", "--out", str(tmp / "d")], "unknown algorithms ['dqn']"),
        ("speed", ["--corpus", str(tmp / "missing"), "--out", str(tmp / "s.md")], "does not exist"),
        ("compare", ["--sweeps", str(tmp / "no_sweep"), "--out", str(tmp / "c")], "has no summary.json; run"),
        ("study", ["serve", str(tmp / "missing")], "No such folder"),
        ("train-smiles-prior", ["--corpus", str(tmp / "missing.smi"), "--out", str(tmp / "p")], "no SMILES file"),
    ]


def test_every_mistake_is_one_line_with_exit_code_2(tmp_path, capsys) -> None:
    cases = bad_inputs(tmp_path)
    assert {command for command, _, _ in cases} >= set(subcommands()) - {"sweep", "outside"}
    for command, args, expected in cases:
        assert exit_code([command, *args]) == 2, (command, args)
        assert expected in one_error_line(capsys, command), (command, args)


@pytest.mark.parametrize("command", subcommands())
def test_unknown_flag_of_any_subcommand_is_one_line(command: str, capsys) -> None:
    assert exit_code([command, "--no-such-flag"] + (["x.mid"] if command == "render" else [])) == 2
    assert "unrecognized arguments: --no-such-flag" in one_error_line(capsys, command)


@pytest.mark.parametrize("command", subcommands())
def test_help_is_plain_text_with_defaults(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: rl-tuner {command}")
    flat = " ".join(text.split())
    assert "``" not in text and "(default: )" not in flat
    assert not re.search(r"\(default:[^)]*\) \(default:", flat)  # one default per flag
    if command in _FORWARDED and command not in ("sweep", "outside", "study"):
        assert "(default: " in text


def test_demo_help_shows_the_demo_and_its_folder(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: rl-tuner demo") and "(default: runs/demo)" in text and "runs/reproduce" not in text


def test_speed_writes_under_runs_unless_told(capsys) -> None:
    from benchmarks.speed.report import Args

    assert Path(Args().out).parts[0] == "runs"
    with pytest.raises(SystemExit):
        main(["speed", "--help"])
    assert "(default: runs/speed.md)" in " ".join(capsys.readouterr().out.split())


def test_train_help_shows_defaults_once(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Note RNN checkpoint to tune (default: the shipped one) --out" in text
    assert "environment steps (the paper: 1,000,000) (default: 1000000)" in text


def test_unknown_subcommand_exits_with_usage(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["compose-symphony"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-tuner: error: argument command: invalid choice: 'compose-symphony'")
    assert len(err.splitlines()) == 1


def test_traceback_variable_shows_the_traceback(monkeypatch) -> None:
    monkeypatch.setenv("RL_TUNER_TRACEBACK", "1")
    with pytest.raises(ValueError, match="is not a file"):
        main(["render", "missing.mid"])


def test_console_script_prints_one_line(tmp_path: Path) -> None:
    script = shutil.which("rl-tuner", path=str(Path(sys.executable).parent)) or shutil.which("rl-tuner")
    assert script, "the rl-tuner console script is not installed: pip install -e ."
    run = subprocess.run(
        [script, "train", "--algorithm", "dqn"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [
        "rl-tuner train: error: --algorithm must be one of q, psi, g, rl_only, got 'dqn'"
    ]


def test_train_finishes_exploring_in_its_budget(tuner_zip: Path) -> None:
    """`rl-tuner train --steps N` ramps ε over the first half of N (docs/spec.md §6), never past the budget."""
    from agents import RLTuner

    tuner = RLTuner.load(tuner_zip)
    assert tuner.num_timesteps == 320
    assert tuner.hyperparameters["exploration_fraction"] == 0.5
    assert tuner.hyperparameters["exploration_steps"] is None  # no fixed ramp that outlives the budget
    assert tuner._exploration(320).rate(160) == pytest.approx(0.1)
