"""The ``rl-tuner`` command: one entry point over the project's jobs.

Subcommands import their modules lazily, so ``rl-tuner --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    """Sample melodies from the Note RNN (or a trained tuner) and write MIDI (+ WAV, PNG)."""
    import numpy as np
    import torch

    from melody_env.encoding import write_midi
    from melody_env.listen import save_piano_roll, write_wav
    from melody_env.note_rnn import NoteRNN, load_default_note_rnn, primer_from_file
    from reward_rules.tokens import token_name

    if args.agent:
        from agents import RLTuner

        tuner = RLTuner.load(args.agent)
        melodies = tuner.generate(args.n, temperature=args.temperature, seed=args.seed)
    else:
        model = NoteRNN.load(args.checkpoint) if args.checkpoint else load_default_note_rnn()
        generator = torch.Generator().manual_seed(args.seed)
        primer = primer_from_file(args.primer, n=args.n) if args.primer else None
        melodies = model.sample(args.n, args.length, primer=primer, temperature=args.temperature, generator=generator)
        melodies = melodies.numpy()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, melody in enumerate(np.asarray(melodies)):
        stem = out / f"melody_{i:03d}"
        write_midi(melody, stem.with_suffix(".mid"), qpm=args.qpm)
        if args.wav:
            write_wav(melody, stem.with_suffix(".wav"), qpm=args.qpm)
        if args.png:
            save_piano_roll(melody, stem.with_suffix(".png"))
        print(f"{stem.with_suffix('.mid')}: {' '.join(token_name(int(t)) for t in melody)}")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    """Turn a MIDI or ABC melody into WAV and/or a piano-roll PNG beside it."""
    from melody_env.encoding import read_melody
    from melody_env.listen import save_piano_roll, write_wav

    src = Path(args.melody)
    melody = read_melody(src)
    if not (args.wav or args.png):
        args.wav = args.png = True
    if args.wav:
        write_wav(melody, src.with_suffix(".wav"), qpm=args.qpm)
        print(src.with_suffix(".wav"))
    if args.png:
        save_piano_roll(melody, src.with_suffix(".png"))
        print(src.with_suffix(".png"))
    return 0


def _cmd_corpus(args: argparse.Namespace) -> int:
    """Encode (or load from cache) a corpus and print its summary."""
    from melody_env.data import load_corpus

    corpus = load_corpus(args.source)
    for key, value in corpus.summary.items():
        print(f"{key}: {value}")
    return 0


def _forward(module: str, argv: list[str]) -> int:
    """Run ``module.main(argv)`` with the arguments after the subcommand."""
    import importlib

    return int(importlib.import_module(module).main(argv) or 0)


_FORWARDED = {
    "train-note-rnn": ("benchmarks.train_note_rnn", "train the Note RNN on a corpus (SPEC §3)"),
    "train": ("benchmarks.train", "train one tuner (q, psi, g, rl_only) on MelodyCompose-v0"),
    "reproduce": ("benchmarks.table1", "train all tuners and reproduce Table 1, Figures 2 and 4, the listening page"),
    "demo": ("benchmarks.demo", "the quick reproduction on the shipped defaults (the README's main job)"),
    "speed": ("benchmarks.speed", "the speed report (benchmarks/results/speed.md)"),
    "sweep": ("benchmarks.sweep.cli", "train and score across seeds on Ray Tune: mean, IQM, intervals over seeds"),
    "outside": ("benchmarks.outside.cli", "judge melodies against held-out real tunes (muspy features, music21 keys)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rl-tuner`` (forwarded subcommands have their own ``--help``)."""
    parser = argparse.ArgumentParser(prog="rl-tuner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, text) in _FORWARDED.items():
        sub.add_parser(name, help=text, add_help=False)

    gen = sub.add_parser("generate", help="sample melodies and write MIDI (+ WAV, PNG)")
    gen.add_argument("--n", type=int, default=8, help="number of melodies")
    gen.add_argument("--length", type=int, default=32, help="16th-note steps per melody (Note RNN only)")
    gen.add_argument("--temperature", type=float, default=1.0, help="sampling temperature; 0 = greedy")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--checkpoint", help="a Note RNN checkpoint (default: the shipped one)")
    gen.add_argument("--agent", help="a saved tuner to sample from instead of the Note RNN")
    gen.add_argument("--primer", help="a MIDI or ABC file whose notes prime the Note RNN")
    gen.add_argument("--qpm", type=float, default=80.0, help="tempo of the written files")
    gen.add_argument("--wav", action="store_true", help="also write WAV audio")
    gen.add_argument("--png", action="store_true", help="also write piano-roll pictures")
    gen.add_argument("--out", default="runs/generated", help="output folder")
    gen.set_defaults(func=_cmd_generate)

    ren = sub.add_parser("render", help="render a MIDI/ABC melody to WAV and/or a piano-roll PNG")
    ren.add_argument("melody", help="a .mid or .abc file")
    ren.add_argument("--wav", action="store_true", help="write <melody>.wav")
    ren.add_argument("--png", action="store_true", help="write <melody>.png")
    ren.add_argument("--qpm", type=float, default=80.0)
    ren.set_defaults(func=_cmd_render)

    cor = sub.add_parser("corpus", help="encode a corpus (cached) and print its summary")
    cor.add_argument("source", nargs="?", default="music21", help="'music21' or a folder of MIDI/ABC files")
    cor.set_defaults(func=_cmd_corpus)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rl-tuner`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _FORWARDED:
        return _forward(_FORWARDED[argv[0]][0], argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
