"""``python -m listening_study``: the same as ``rl-tuner study``."""

import sys

from listening_study.cli import main

sys.exit(main())
