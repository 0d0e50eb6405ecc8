"""The README's results, written from the committed results' JSON and checked against them.

``python -m benchmarks.readme`` rewrites README.md's marked blocks; ``--check`` exits 1, naming the blocks
that differ and the figures no committed file holds (:mod:`benchmarks.readme.write`).
"""

from benchmarks.readme.write import BLOCKS, render, stale_blocks, unheld_numbers

__all__ = ["BLOCKS", "render", "stale_blocks", "unheld_numbers"]
