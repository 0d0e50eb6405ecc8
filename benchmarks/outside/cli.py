"""Judge melodies from outside: ``rl-tuner outside --models note_rnn,runs/q.zip --melodies 10000 --out runs/outside``.

Each model composes ``--melodies`` melodies as Table 1 does (:func:`benchmarks.evaluate.compose`);
they and the held-out validation openings get muspy's features, the Yang–Lerch distances to the
validation set and music21's key check (:mod:`benchmarks.outside.measures`). Writes
``outside.json`` and ``outside.md`` under ``--out``.
"""

from __future__ import annotations

import shlex
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agents import RLTuner
from benchmarks.args import parse_dataclass
from benchmarks.evaluate import Model, compose
from benchmarks.outside.measures import (
    DEFAULT_KEY_SAMPLE,
    DEFAULT_PAIRS,
    MIN_REFERENCE,
    build_reference,
    outside_measures,
    reference_summary,
    validation_openings,
)
from benchmarks.outside.report import write_report
from benchmarks.provenance import recorded
from benchmarks.timing import machine
from melody_env.data import load_corpus
from melody_env.note_rnn import load_default_note_rnn
from sequence_env.threads import DEFAULT_TORCH_THREADS, torch_threads

NOTE_RNN = "note_rnn"
"""The name that stands for the shipped Note RNN in ``--models``."""


@dataclass
class Args:
    """Settings of ``rl-tuner outside``."""

    models: str = NOTE_RNN
    """comma-separated: 'note_rnn' (the shipped Note RNN) and/or saved tuner .zip files"""
    melodies: int = 10_000
    """melodies composed per model"""
    out: str = "runs/outside"
    """folder of outside.json and outside.md"""
    seed: int = 0
    """seed of composing, the distance pairs, the validation halves and the key samples"""
    pairs: int = DEFAULT_PAIRS
    """pairs of melodies per distance distribution"""
    key_melodies: int = DEFAULT_KEY_SAMPLE
    """melodies per set given to music21's key analysis"""
    corpus: str = "music21"
    """corpus whose validation split is the reference: 'music21' or a folder of MIDI/ABC files"""


def model_specs(models: str) -> dict[str, str]:
    """Name → source of each ``--models`` entry: ``note_rnn``, or a tuner zip named by its file stem.

    :param models: the comma-separated flag value.
    :raises ValueError: for an empty list, a missing or non-zip file, or two models of one name.
    """
    specs: dict[str, str] = {}
    for entry in (e.strip() for e in models.split(",")):
        if not entry:
            continue
        if entry == NOTE_RNN:
            name = NOTE_RNN
        elif Path(entry).suffix == ".zip" and Path(entry).is_file():
            name = Path(entry).stem
        else:
            raise ValueError(f"--models entry {entry!r} is neither 'note_rnn' nor an existing tuner .zip file")
        if name in specs:
            raise ValueError(f"two --models entries are named {name!r}; rename one of the .zip files")
        specs[name] = entry
    if not specs:
        raise ValueError("--models is empty; pass 'note_rnn' and/or saved tuner .zip files, comma-separated")
    return specs


def _check(args: Args) -> None:
    for flag in ("melodies", "pairs", "key_melodies"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")


def load_models(specs: dict[str, str]) -> dict[str, Model]:
    """Name → the loaded Note RNN or tuner, for each entry of :func:`model_specs`."""
    return {name: load_default_note_rnn() if src == NOTE_RNN else RLTuner.load(src) for name, src in specs.items()}


def run(args: Args, loaded: dict[str, Model], openings: np.ndarray, command: str, started: float) -> dict:
    """Compose with each loaded model, measure against the validation openings, write the report; return it.

    :param args: the settings.
    :param loaded: name → model (:func:`load_models`).
    :param openings: (m, 32) held-out melodies (:func:`~benchmarks.outside.measures.validation_openings`).
    :param command: the command line, for the report.
    :param started: ``time.perf_counter()`` when the command started (wall time of the report).
    """
    t0 = time.perf_counter()
    reference = build_reference(openings, args.seed, args.pairs, args.key_melodies)
    seconds = {"validation": time.perf_counter() - t0}
    models = {}
    for name, model in loaded.items():
        print(f"[outside] {name}: composing {args.melodies:,} melodies and measuring them", flush=True)
        t0 = time.perf_counter()
        with torch_threads(DEFAULT_TORCH_THREADS):
            _, melodies = compose(model, args.melodies, seed=args.seed)
        models[name] = outside_measures(melodies, reference, args.seed, args.key_melodies)
        seconds[name] = time.perf_counter() - t0
    report = {
        "command": command,
        "machine": machine(),
        "wall_time_seconds": time.perf_counter() - started,
        "seconds": seconds,
        "settings": asdict(args),
        "validation": reference_summary(reference),
        "models": models,
    }
    for path in write_report(report, args.out):
        print(path)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rl-tuner outside``; bad input gives one line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(Args, argv, "rl-tuner outside", __doc__.splitlines()[0])
    started = time.perf_counter()
    try:
        _check(args)
        loaded = load_models(model_specs(args.models))
        openings = validation_openings(load_corpus(args.corpus))
        if len(openings) < MIN_REFERENCE:
            raise ValueError(
                f"the corpus {args.corpus!r} has {len(openings)} validation melodies of 32 steps; the reference "
                f"needs {MIN_REFERENCE}: pass a larger --corpus"
            )
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        print(f"rl-tuner outside: error: {err}", file=sys.stderr)
        return 2
    command = "rl-tuner outside " + shlex.join(argv)
    with recorded(args.out, command):
        run(args, loaded, openings, command, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
