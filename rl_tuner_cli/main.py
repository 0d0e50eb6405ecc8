"""The ``rl-tuner`` command: one entry point over the project's jobs.

Subcommands import their modules lazily, so ``rl-tuner --help`` stays instant. A mistake in any
subcommand (a bad flag value, a missing or corrupt file, a checkpoint that does not load, a corpus
with no usable melody) prints one line, ``rl-tuner <command>: error: <the problem and the fix>``, and
exits with code 2; a training run that diverges exits with code 1. Set ``RL_TUNER_TRACEBACK=1`` to
see the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.args import OneLineParser, nonnegative_float, positive_float, positive_int, with_default

USER_ERRORS = (ValueError, TypeError, OSError)
"""Raised by the project's argument checks (CheckpointError and CorpusError are ValueErrors) and by files."""
RUN_ERRORS = (FloatingPointError,)
"""A run that failed on its own (NaNLossError, TrainingDivergedError): one line, exit code 1."""
TRACEBACK_VARIABLE = "RL_TUNER_TRACEBACK"
"""Set this environment variable to a non-empty value to get tracebacks instead of one-line errors."""
_PRIMER_SHOWN = 16


def _names(tokens) -> str:
    """Note names of ``tokens``, bars of 16 steps split by ``|``."""
    from reward_rules.tokens import STEPS_PER_BAR, token_name

    names = [token_name(int(t)) for t in tokens]
    return " | ".join(" ".join(names[i : i + STEPS_PER_BAR]) for i in range(0, len(names), STEPS_PER_BAR))


def _primed_line(primer, melody) -> str:
    """``[primer] melody`` as printed: the primer's last 16 steps in brackets, then the melody's bars."""
    head = "... " if len(primer) > _PRIMER_SHOWN else ""
    return f"[{head}{_names(primer[-_PRIMER_SHOWN:])}] {_names(melody)}"


def _key_note(primer, path: str) -> str:
    """The header line saying what was done with a primer file's key (shifts of -5..+6, as the corpus)."""
    tonic = primer.shift % 12
    if tonic == 0:
        return f"# primer {path}: in C major / A minor already (the models' keys); composed as written"
    down, up, semitones = ("down", "up", tonic) if tonic <= 5 else ("up", "down", 12 - tonic)
    return (
        f"# primer {path}: estimated key {primer.key}. The models know only C major / A minor, so the primer "
        f"was transposed {down} {semitones} semitones to compose and the melodies {up} {semitones} again: "
        "they continue in the primer's key"
    )


def _cmd_generate(args: argparse.Namespace) -> int:
    """Sample melodies from the Note RNN (or a trained tuner) and write MIDI (+ WAV, PNG), primers included."""
    import numpy as np
    import torch

    from melody_env.encoding import NOTATION, read_primer, transpose_melody, write_midi
    from melody_env.listen import save_piano_roll, write_wav
    from melody_env.note_rnn import NoteRNN, load_default_note_rnn
    from melody_env.task import melody_task
    from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES
    from sequence_env.threads import DEFAULT_TORCH_THREADS, torch_threads

    primer = read_primer(args.primer) if args.primer else None
    generator = torch.Generator().manual_seed(args.seed)
    if primer is None:  # one random note onset per melody, as the env primes (docs/spec.md §6)
        primers = torch.randint(FIRST_PITCH_CLASS, NUM_CLASSES, (args.n, 1), generator=generator)
    else:
        primers = torch.as_tensor(primer.tokens).expand(args.n, -1)
    with torch_threads(DEFAULT_TORCH_THREADS):
        if args.agent:
            from agents import RLTuner
            from agents.inference import compose

            tuner = RLTuner.load(args.agent)
            length = args.length or tuner.max_length
            task = tuner.task or melody_task()
            melodies = compose(
                tuner.networks, tuner.algorithm, task, args.n, length, args.temperature, generator, primers
            )
        else:
            model = NoteRNN.load(args.checkpoint) if args.checkpoint else load_default_note_rnn()
            length = args.length or 32
            melodies = model.sample(args.n, length, primers, args.temperature, generator).numpy()
    written = primers.numpy()
    if primer is not None:
        melodies = transpose_melody(melodies, primer.shift)
        written = np.broadcast_to(primer.original, (args.n, len(primer.original)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"# each line: [primer] melody, one 16th-note step per token, bars split by |; {NOTATION}.")
    print("# The primer is fed to the model first and is not part of the melody; the files play it first")
    print("# (MIDI markers 'primer' and 'melody'; shaded on the piano roll).")
    if primer is not None:
        print(_key_note(primer, args.primer))
    for i, (melody, first) in enumerate(zip(melodies, written, strict=True)):
        stem = out / f"melody_{i:03d}"
        write_midi(melody, stem.with_suffix(".mid"), qpm=args.qpm, primer=first)
        if args.wav:
            write_wav(melody, stem.with_suffix(".wav"), qpm=args.qpm, primer=first)
        if args.png:
            save_piano_roll(melody, stem.with_suffix(".png"), primer=first)
        print(f"{stem.with_suffix('.mid')}: {_primed_line(first, melody)}")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    """Turn a MIDI or ABC melody into WAV and/or a piano-roll PNG beside it (a written primer shaded)."""
    from melody_env.encoding import read_primed
    from melody_env.listen import save_piano_roll, write_wav

    src = Path(args.melody)
    primer, melody = read_primed(src)
    primer = primer if len(primer) else None
    if not (args.wav or args.png):
        args.wav = args.png = True
    if args.wav:
        write_wav(melody, src.with_suffix(".wav"), qpm=args.qpm, primer=primer)
        print(src.with_suffix(".wav"))
    if args.png:
        save_piano_roll(melody, src.with_suffix(".png"), primer=primer)
        print(src.with_suffix(".png"))
    return 0


def _cmd_corpus(args: argparse.Namespace) -> int:
    """Encode (or load from cache) a corpus and print its summary (and, with --verbose, what was skipped)."""
    from melody_env.data import extraction_rules, load_corpus

    rules = extraction_rules(args.min_bars, args.min_pitches)
    corpus = load_corpus(args.source, valid_fraction=args.valid_fraction, **rules)
    for key, value in corpus.summary.items():
        print(f"{key}: {value}")
    if corpus.skipped and args.verbose:
        print(f"skipped files and tunes ({len(corpus.skipped)}):")
        print("\n".join(f"  {line}" for line in corpus.skipped))
    elif corpus.skipped:
        print(f"({len(corpus.skipped)} files or tunes gave no melody; --verbose lists them)")
    return 0


def _forward(module: str, argv: list[str]) -> int:
    """Run ``module.main(argv)`` with the arguments after the subcommand.

    Each such module parses its own flags with a parser whose errors are one line
    (:class:`~benchmarks.args.OneLineParser` through :func:`~benchmarks.args.parse_dataclass`, or its own).
    """
    import importlib

    return int(importlib.import_module(module).main(argv) or 0)


_FORWARDED = {
    "train-note-rnn": ("rl_tuner_cli.train_note_rnn", "train the Note RNN on a corpus (docs/spec.md §3)"),
    "train": ("rl_tuner_cli.train", "train one tuner (q, psi, g, rl_only) on MelodyCompose-v0"),
    "reproduce": (
        "benchmarks.reproduction.table1",
        "train all tuners and reproduce Table 1, Figures 2 and 4, the listening page",
    ),
    "demo": ("benchmarks.reproduction.demo", "the quick reproduction on the shipped defaults (the README's main job)"),
    "speed": ("benchmarks.speed.report", "the speed report (runs/speed.md unless --out says otherwise)"),
    "sweep": ("benchmarks.sweep.cli", "train and score across seeds on Ray Tune: mean, IQM, intervals over seeds"),
    "compare": (
        "benchmarks.sweep.compare",
        "sweeps side by side: log p, rMT and KL per algorithm, pairwise over seeds",
    ),
    "outside": ("benchmarks.outside.cli", "judge melodies against held-out real tunes (muspy features, music21 keys)"),
    "train-smiles-prior": ("molecule_env.training", "train the SMILES prior on MOSES train or a SMILES file"),
    "study": ("listening_study.cli", "a blind listening study as the paper's Figure 3: serve, export, report"),
}
_TASK_COMMANDS = ("train", "generate", "sweep")
"""Commands that take ``--task molecule`` (benchmarks.molecules.cli); without it they run the melody task."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rl-tuner`` (forwarded subcommands have their own ``--help``)."""
    parser = OneLineParser(
        prog="rl-tuner",
        description=__doc__.splitlines()[0],
        epilog=f"Errors are one line with exit code 2; {TRACEBACK_VARIABLE}=1 shows tracebacks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, text) in _FORWARDED.items():
        sub.add_parser(name, help=text, add_help=False)

    def add(group, flag: str, text: str, default=None, **kwargs) -> None:
        group.add_argument(flag, default=default, help=with_default(text, default), **kwargs)

    gen = sub.add_parser(
        "generate",
        help="sample melodies and write MIDI (+ WAV, PNG)",
        description="Sample melodies from the Note RNN or a trained tuner; write each, after its primer, as "
        "MIDI (and WAV, PNG) and print its notes.",
    )
    add(gen, "--n", "number of melodies", 8, type=positive_int)
    add(gen, "--length", "16th-note steps per melody (default: 32; with --agent, the tuner's)", type=positive_int)
    add(gen, "--temperature", "sampling temperature; 0 = always the most likely note", 1.0, type=nonnegative_float)
    add(gen, "--seed", "seeds the primers and the draws", 0, type=int)
    model = gen.add_mutually_exclusive_group()
    add(model, "--checkpoint", "a Note RNN checkpoint (default: the shipped one)")
    add(model, "--agent", "a tuner saved by rl-tuner train (.zip) to sample from instead of the Note RNN")
    add(
        gen,
        "--primer",
        "a MIDI or ABC file whose first melody primes every melody (default: one random note each). The models "
        "know C major / A minor only: the primer is transposed there and the melodies back, so they continue "
        "in the file's key",
    )
    add(gen, "--qpm", "tempo of the written files, quarter notes per minute", 80.0, type=positive_float)
    add(gen, "--wav", "also write WAV audio", action="store_true")
    add(gen, "--png", "also write piano-roll pictures", action="store_true")
    add(gen, "--out", "output folder", "runs/generated")
    gen.set_defaults(func=_cmd_generate, parser=gen)

    ren = sub.add_parser("render", help="render a MIDI/ABC melody to WAV and/or a piano-roll PNG")
    add(ren, "melody", "a .mid or .abc file")
    add(ren, "--wav", "write <melody>.wav (default: both files when neither flag is given)", action="store_true")
    add(ren, "--png", "write <melody>.png", action="store_true")
    add(ren, "--qpm", "tempo, quarter notes per minute", 80.0, type=positive_float)
    ren.set_defaults(func=_cmd_render, parser=ren)

    cor = sub.add_parser("corpus", help="encode a corpus (cached) and print its summary")
    add(cor, "source", "'music21' or a folder of MIDI/ABC files", "music21", nargs="?")
    add(
        cor,
        "--min-bars",
        "shortest melody kept, in bars (default: 7 for MIDI files, 2 for ABC tunes)",
        type=nonnegative_float,
    )
    add(cor, "--min-pitches", "fewest distinct pitches a melody must hold (default: 5)", type=positive_int)
    add(cor, "--valid-fraction", "share of tunes held out for validation", 0.1, type=float)
    add(cor, "--verbose", "list the files and tunes that gave no melody, with the reason", action="store_true")
    cor.set_defaults(func=_cmd_corpus, parser=cor)
    return parser


def _one_line(err: BaseException) -> str:
    """The error as one line: its message (OS errors: what and which file, and the fix)."""
    if isinstance(err, OSError) and err.filename is not None:
        fix = "check the path" if isinstance(err, FileNotFoundError) else "check the path and its permissions"
        return f"{err.strerror or type(err).__name__}: {err.filename}; {fix}"
    return " ".join(str(err).split()) or type(err).__name__


def _run(argv: list[str]) -> int:
    if argv and argv[0] in _TASK_COMMANDS and "molecule" in argv:
        from benchmarks.molecules.cli import main as molecule_main
        from benchmarks.molecules.cli import task_option

        if task_option(argv) == "molecule":
            return molecule_main(argv)
    if argv and argv[0] in _FORWARDED:
        return _forward(_FORWARDED[argv[0]][0], argv[1:])
    args, extra = build_parser().parse_known_args(argv)
    if extra:  # named by the subcommand's own parser, so the line points at its --help
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rl-tuner`` console script: every subcommand's mistakes end as one line, code 2.

    :param argv: the arguments (``None``: ``sys.argv[1:]``).
    :raises SystemExit: code 2 for a command line argparse refuses (one line too).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = f"rl-tuner {argv[0]}" if argv and not argv[0].startswith("-") else "rl-tuner"
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (*USER_ERRORS, *RUN_ERRORS) as err:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        return 1 if isinstance(err, RUN_ERRORS) else 2


if __name__ == "__main__":
    sys.exit(main())
