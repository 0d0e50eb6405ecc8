"""``rl-tuner study``: serve a blind listening study, export its ratings, report on them (docs/spec.md §11).

Also ``python -m listening_study``.

Mistakes print one line, ``rl-tuner study: error: <the problem and the fix>``, and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from listening_study import db
from listening_study.oneline import OneLineParser
from listening_study.schedule import CHECK_KINDS
from listening_study.server import DEFAULT_HOST, DEFAULT_PORT

PROG = "rl-tuner study"


def find_study(path: str | Path) -> Path:
    """The study folder: ``path`` itself when it holds ``study.sqlite``, else ``path/study``.

    :raises FileNotFoundError: neither holds a study.
    """
    root = Path(path)
    for folder in (root, root / "study"):
        if (folder / db.DB_NAME).is_file():
            return folder
    raise FileNotFoundError(2, "No study here (no study.sqlite); start one with rl-tuner study serve", str(root))


def _checks(text: str) -> tuple[str, ...]:
    kinds = tuple(k for k in text.split(",") if k and k != "none")
    bad = [k for k in kinds if k not in CHECK_KINDS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown check {bad[0]!r}; use {','.join(CHECK_KINDS)} or none")
    return kinds


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _design_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a folder written by rl-tuner reproduce or rl-tuner demo (or a study folder)")
    parser.add_argument("--study", help="the study folder (default: SOURCE/study)")
    parser.add_argument("--models", help="comma-separated models (default: note_rnn,q,psi,g where present)")
    parser.add_argument("--per-model", type=_positive, default=10, help="melodies drawn per model (default: 10)")
    parser.add_argument("--pairs", type=_positive, default=12, help="model pairs per listener (default: 12)")
    parser.add_argument("--checks", type=_checks, default=CHECK_KINDS,
                        help="attention checks per listener, comma-separated: identical, anchor, or none "
                        "(default: identical,anchor)")  # fmt: skip
    parser.add_argument("--points", type=int, choices=(5, 7), default=7, help="Likert points (default: 7)")
    parser.add_argument("--qpm", type=float, default=80.0, help="tempo, quarter notes per minute (default: 80)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the melodies drawn and the schedule (default: 0)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``rl-tuner study``."""
    parser = OneLineParser(prog=PROG, description="Serve a blind listening study, export its ratings, report on them.")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    serve = sub.add_parser("serve", help="serve the study to listeners (creates it on first use)")
    _design_flags(serve)
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on; 0.0.0.0 lets others on the network take part (default: 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")  # fmt: skip
    export = sub.add_parser("export", help="write ratings.csv and ratings.json")
    export.add_argument("study", help="the study folder (or the folder it was made from)")
    export.add_argument("--out", help="where to write (default: the study folder)")
    report = sub.add_parser("report", help="write report.md and figure3.png: Figure 3, the paper's tests and more")
    report.add_argument("study", help="the study folder (or the folder it was made from)")
    report.add_argument("--out", help="where to write (default: the study folder)")
    report.add_argument("--bootstrap", type=_positive, default=1000, help="bootstrap resamples (default: 1000)")
    report.add_argument("--seed", type=int, default=0, help="seeds the bootstrap (default: 0)")
    simulate = sub.add_parser(
        "simulate",
        help="pipeline demonstration: simulated listeners who prefer the higher rMT take a new study, then a report",
    )
    _design_flags(simulate)
    simulate.add_argument("--listeners", type=_positive, default=24, help="simulated listeners (default: 24)")
    sub.add_parser("load", help="the load benchmark: simulated listeners at once against a server process",
                   add_help=False)  # fmt: skip
    return parser


def _new_study(args: argparse.Namespace, study: Path) -> Path:
    """Build a study in ``study`` from ``args.source`` with the design flags (refused where one exists)."""
    from listening_study import prepare

    models = [m for m in args.models.split(",") if m] if args.models else None
    design, skipped = prepare.build(args.source, study, models, args.per_model, args.pairs, args.checks, args.seed,
                                    args.qpm, args.points)  # fmt: skip
    for line in skipped:
        print(f"skipped (unreadable): {line}")
    print(f"New study in {study}: {', '.join(design.models)}, {sum(design.melodies.values())} melodies, "
          f"{design.pairs} pairs + {len(design.checks)} check(s) per listener")  # fmt: skip
    return study


def _open_study(args: argparse.Namespace) -> Path:
    """The study folder to serve: the existing one (its design flags fixed), or a new one built from the source."""
    try:
        study = find_study(args.study or args.source)
    except FileNotFoundError:
        return _new_study(args, Path(args.study) if args.study else Path(args.source) / "study")
    print(f"Resuming the study in {study} (its design was fixed when it was made)")
    return study


def _address() -> str:
    """This machine's address on its local network, as others would type it (a guess; no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def _serve(args: argparse.Namespace) -> int:
    from listening_study.app import create_app
    from listening_study.server import bind, serve

    study = _open_study(args)
    token = secrets.token_urlsafe(18)
    app = create_app(study, token)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = _address() if args.host in ("0.0.0.0", "::") else args.host
    print(f"Study folder: {study.resolve()}")
    print(f"Listeners: http://{host}:{port}/")
    print(f"Experimenter (keep this private): http://{host}:{port}/admin?token={token}")
    print("Ctrl-C stops the server; every acknowledged rating is already on disk.", flush=True)
    serve(app, sock)
    return 0


def _export(args: argparse.Namespace) -> int:
    from listening_study.export import write_exports

    study = find_study(args.study)
    con = db.connect(study)
    try:
        for path in write_exports(con, args.out or study):
            print(path)
    finally:
        con.close()
    return 0


def _report(args: argparse.Namespace) -> int:
    from listening_study.report import build_report

    print(build_report(find_study(args.study), args.out, args.bootstrap, args.seed))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from listening_study.app import create_app
    from listening_study.report import build_report
    from listening_study.server import Background
    from listening_study.simulate import mark_simulated, run_listeners

    study = _new_study(args, Path(args.study) if args.study else Path(args.source) / "study-simulated")
    with Background(create_app(study, secrets.token_urlsafe(18))) as server:
        listeners, _ = run_listeners(server.url, study, args.listeners, seed=args.seed)
    mark_simulated(study, [x.cookie.split("=", 1)[1] for x in listeners])
    print(f"{args.listeners} SIMULATED listeners (they prefer the higher rMT) rated {study}: a pipeline "
          "demonstration, not evidence of what people prefer")  # fmt: skip
    print(build_report(study))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rl-tuner study <command>``; a mistake prints one line and returns 2.

    :param argv: the arguments after ``study`` (None: ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["load"]:
        from listening_study import load

        return _guarded(lambda: load.main(argv[1:]))
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}; see {PROG} --help")
    if args.command is None:
        parser.error("choose a command: serve, export, report, simulate or load; see rl-tuner study --help")
    commands = {"serve": _serve, "export": _export, "report": _report, "simulate": _simulate}
    return _guarded(lambda: commands[args.command](args))


def _guarded(run) -> int:
    """Run a subcommand; its mistakes print one line and return 2."""
    try:
        return int(run() or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError, RuntimeError) as err:
        if os.environ.get("RL_TUNER_TRACEBACK"):
            raise
        if isinstance(err, OSError) and err.filename is not None:
            message = f"{err.strerror}: {err.filename}"
        else:
            message = " ".join(str(err).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "find_study", "main"]
