"""``python -m benchmarks.readme [--check] [--readme README.md]``: rewrite (or check) the README's results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.readme.write import render, stale_blocks, unheld_numbers

ROOT = Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite README.md's blocks from benchmarks/results; with ``--check``, only report (exit code 1 if stale)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale blocks and unheld figures; change nothing")
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="the README (default: the repository's)")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    results = ROOT / "benchmarks" / "results"
    text = readme.read_text(encoding="utf-8")
    if args.check:
        stale, unheld = stale_blocks(text, results), unheld_numbers(text, ROOT)
        if stale:
            print(f"README blocks differ from the results: {', '.join(stale)}; run python -m benchmarks.readme")
        if unheld:
            print(f"README figures no committed file holds: {', '.join(unheld)}")
        return 1 if stale or unheld else 0
    updated = render(text, results)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    print(f"{readme}: {'rewritten' if updated != text else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
