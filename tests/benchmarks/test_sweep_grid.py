"""The sweep's grid, cell keys and flags: what runs, how it is named, and one-line errors for bad flags."""

from __future__ import annotations

import pytest

from benchmarks.sweep.cli import build_parser, config_from_args
from benchmarks.sweep.grid import NOTE_RNN, SweepConfig, cell_key, grid_trials, parse_value
from rl_tuner_cli.main import main


def test_cell_keys() -> None:
    assert cell_key("q", 0.5, {}) == "q/c=0.5"
    assert cell_key("psi", 1.0, {"exploration": "boltzmann"}) == "psi/c=1/exploration=boltzmann"
    assert cell_key("g", 0.25, {"learning_rate": 1e-4}) == "g/c=0.25/learning_rate=0.0001"
    assert cell_key(NOTE_RNN, None, {}) == "note_rnn"


def test_parse_value() -> None:
    assert parse_value("1e-3") == 1e-3 and parse_value("64") == 64 and parse_value("true") is True
    assert parse_value("boltzmann") == "boltzmann"


def test_grid_crosses_algorithms_c_seeds_and_varying_axes() -> None:
    config = SweepConfig(algorithms=("q", "g"), c=(0.5, 2.0), seeds=2, exploration=("egreedy", "boltzmann"),
                         hyperparameters={"learning_rate": (1e-3,)})  # fmt: skip
    trials = grid_trials(config)
    assert [t.cell for t in trials[:2]] == ["note_rnn", "note_rnn"]
    tuners = trials[2:]
    assert len(tuners) == 2 * 2 * 2 * 2  # algorithms × c × exploration × seeds
    assert tuners[0].cell == "q/c=0.5/exploration=egreedy" and tuners[0].seeds == (0,)
    assert tuners[0].hyperparameters == {"exploration": "egreedy", "learning_rate": 1e-3}  # fixed: not in the key
    assert {t.seeds for t in tuners[:8]} == {(0,)}  # seed 0 of every cell first
    grouped = grid_trials(SweepConfig(algorithms=("q",), seeds=5, seeds_per_trial=2))
    assert [t.seeds for t in grouped if t.algorithm == "q"] == [(0, 1), (2, 3), (4,)]


def test_spec_round_trips_through_its_dict() -> None:
    spec = grid_trials(SweepConfig(algorithms=("psi",), seeds=1, hyperparameters={"gamma": (0.9,)}))[1]
    assert type(spec).from_dict(spec.to_dict()) == spec
    assert spec.identity(0)["hyperparameters"] == {"gamma": 0.9}


def test_flags_become_a_config() -> None:
    args = build_parser().parse_args(["--algorithms", "q,rl_only", "--c", "0.5,1", "--seeds", "3", "--set",
                                      "learning_rate=1e-3,3e-4", "--exploration", "boltzmann"])  # fmt: skip
    config = config_from_args(args)
    assert config.algorithms == ("q", "rl_only") and config.c == (0.5, 1.0) and config.seeds == 3
    assert config.hyperparameters == {"learning_rate": (1e-3, 3e-4)} and config.exploration == ("boltzmann",)
    ranged = config_from_args(build_parser().parse_args(["--search", "optuna", "--c", "0.1:5",
                                                         "--set", "learning_rate=1e-4:1e-2"]))  # fmt: skip
    assert ranged.ranges == {"c": (0.1, 5), "learning_rate": (1e-4, 1e-2)}


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--algorithms", "q,ppo"], "--algorithms"),
        (["--c", "0"], "--c"),
        (["--c", "half"], "--c"),
        (["--seeds", "0"], "--seeds"),
        (["--steps", "ten"], "--steps"),
        (["--set", "warp_speed=9"], "warp_speed"),
        (["--set", "seed=3"], "seed"),
        (["--set", "learning_rate"], "--set"),
        (["--exploration", "greedy"], "--exploration"),
        (["--c", "0.1:5"], "--search optuna"),
        (["--search", "random"], "--search"),
        (["--metric", "fun"], "--metric"),
        (["--bogus"], "--bogus"),
        (["--address", "127.0.0.1:1", "--cpus", "2"], "--cpus"),
    ],
)
def test_bad_flags_print_one_line_and_exit_2(flags: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and err[0].startswith("rl-tuner sweep: error:")


def test_optuna_space_and_the_trial_of_a_sample() -> None:
    from benchmarks.sweep.engine import sampled_spec, search_space

    config = SweepConfig(algorithms=("q", "psi"), seeds=3, steps=100, melodies=10, search="optuna",
                         ranges={"c": (0.1, 5.0), "learning_rate": (1e-4, 1e-2), "batch_size": (16, 64)})  # fmt: skip
    space = search_space(config)
    assert space["algorithm"].categories == ["q", "psi"]
    assert (space["c"].lower, space["c"].upper) == (0.1, 5.0)
    assert (space["hyperparameters"]["batch_size"].lower, space["hyperparameters"]["batch_size"].upper) == (16, 65)
    sample = {**space, "algorithm": "psi", "c": 0.7, "hyperparameters": {"learning_rate": 3e-4, "batch_size": 32}}
    spec = sampled_spec(sample)
    assert spec.cell == "psi/c=0.7/learning_rate=0.0003/batch_size=32" and spec.seeds == (0, 1, 2)
    assert spec.hyperparameters == {"learning_rate": 3e-4, "batch_size": 32} and spec.steps == 100
