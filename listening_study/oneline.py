"""An argument parser whose mistakes are one line (``<prog>: error: <message>``) and exit code 2."""

from __future__ import annotations

import argparse


class OneLineParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` printing a refused command line as one line, without the usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


__all__ = ["OneLineParser"]
