"""The README's main job: the quick reproduction on the embedded defaults, written to runs/demo.

Trains Q, Ψ, G and RL-only from the shipped Note RNN on ``MelodyCompose-v0`` (music21's folk corpus
made it), scores every model as Table 1 does, prints the table and the path of the listening page
(``runs/demo/index.html``). It is ``rl-tuner reproduce --scale quick --out runs/demo``: every flag of
``rl-tuner reproduce`` works here too (``rl-tuner demo --help`` lists them with the demo's defaults).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.args import parse_dataclass
from benchmarks.provenance import recorded
from benchmarks.reproduction import table1

DEMO_DEFAULTS = {"out": "runs/demo", "scale": "quick"}
"""Where the demo differs from ``rl-tuner reproduce``'s defaults."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rl-tuner reproduce --scale quick --out runs/demo [flags]``; its help and errors say ``rl-tuner demo``.

    :raises ValueError: settings the reproduction refuses (``rl-tuner demo`` prints them as one line).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_dataclass(table1.Args, argv, "rl-tuner demo", __doc__.splitlines()[0], defaults=DEMO_DEFAULTS)
    command = "rl-tuner demo " + shlex.join(argv)
    with recorded(args.out, command):
        result = table1.reproduce(args, command)
    out = Path(args.out)
    print((out / "table1.md").read_text())
    print(f"Listening page: {(out / 'index.html').resolve()}")
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
