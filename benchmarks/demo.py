"""The README's main job: the quick reproduction on the embedded defaults.

Trains Q, Ψ, G and RL-only from the shipped Note RNN on ``MelodyCompose-v0`` (music21's folk corpus
made it), scores every model as Table 1 does, prints the table and the path of the listening page
(``runs/demo/index.html``). Extra flags are passed to ``rl-tuner reproduce``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from benchmarks import table1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rl-tuner reproduce --scale quick --out runs/demo [flags]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return table1.main(["--scale", "quick", "--out", "runs/demo", *argv])


if __name__ == "__main__":
    sys.exit(main())
