"""``python -m listening_study``: the same as ``rl-tuner study``."""

import sys

from listening_study.cli import main

if __name__ == "__main__":
    sys.exit(main())
