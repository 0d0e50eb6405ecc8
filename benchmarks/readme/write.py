"""Rewrite or check the README's generated blocks, and find figures the README cites that no committed file holds.

A block is ``<!-- results:<name> -->`` … ``<!-- /results -->``; its body is what :data:`BLOCKS` ``[name]``
writes from ``benchmarks/results``. :func:`stale_blocks` names the blocks whose body differs (or whose name
is unknown). :func:`unheld_numbers` lists the figures of the results sections outside the blocks and code —
numbers with a decimal point or a thousands separator — that appear in no committed results file, the paper's numbers
(``benchmarks/paper_numbers.py``) or docs/spec.md: a figure quoted by hand from a run nobody committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from benchmarks.readme import molecules, runs, seeds

BLOCKS: dict[str, Callable[[Path], str]] = {
    "seeds_outside": seeds.seeds_outside,
    "seeds_table1": seeds.seeds_table1,
    "seeds_claims": seeds.seeds_claims,
    "paper_run": runs.paper_run,
    "c_sweep": runs.c_sweep,
    "ablations": runs.ablations,
    "kl_pg_commands": runs.kl_pg_commands,
    "kl_pg_matched": runs.kl_pg_matched,
    "kl_pg_fixed": runs.kl_pg_fixed,
    "molecules": molecules.molecules,
    "speed": runs.speed,
}
"""Block name → the function writing its body from the results folder."""
BLOCK = re.compile(r"<!-- results:(?P<name>[a-z0-9_]+) -->\n(?P<body>.*?)<!-- /results -->", re.S)
FIGURE = re.compile(r"(?<![\w.,])[−-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])[−-]?\d+\.\d+")
"""A figure: a number with a thousands separator or a decimal point (plain integers count seeds, steps, …)."""
SOURCES = ("benchmarks/results", "listening_study/results", "benchmarks/paper_numbers.py", "docs/spec.md")
"""What a figure in the README may be quoted from, relative to the repository."""
RESULTS = ("## Sweeps across seeds", "## Where this differs from the original implementation")
"""The README's results sections: from the first heading to the second (versions and budgets elsewhere)."""


def body(name: str, results: Path) -> str:
    """The body of block ``name``, ending in a newline."""
    return BLOCKS[name](results).rstrip("\n") + "\n"


def render(text: str, results: Path) -> str:
    """``text`` (the README) with every known block's body rewritten from ``results``."""

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in BLOCKS:
            return match[0]
        return f"<!-- results:{name} -->\n{body(name, results)}<!-- /results -->"

    return BLOCK.sub(replace, text)


def stale_blocks(text: str, results: Path) -> list[str]:
    """Names of the README's blocks that differ from what the results say, or that no function writes."""
    return [m["name"] for m in BLOCK.finditer(text) if m["name"] not in BLOCKS or m["body"] != body(m["name"], results)]


def results_text(text: str) -> str:
    """The README's results sections (:data:`RESULTS`); the whole text if a heading is missing."""
    start, end = text.find(RESULTS[0]), text.find(RESULTS[1])
    return text[start:end] if 0 <= start < end else text


def _outside_blocks_and_code(text: str) -> str:
    text = BLOCK.sub("", results_text(text))
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def _normal(figure: str) -> str:
    return figure.replace("−", "-")


def held_figures(root: Path) -> set[str]:
    """Every figure written in the committed sources (:data:`SOURCES`), minus signs made ASCII."""
    found: set[str] = set()
    for source in SOURCES:
        path = root / source
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".md", ".json", ".csv"))
        for file in files:
            found.update(_normal(f) for f in FIGURE.findall(file.read_text(encoding="utf-8", errors="replace")))
    return found


def unheld_numbers(text: str, root: Path) -> list[str]:
    """Figures of the README's results sections, outside its blocks and code, that no committed source holds."""
    held = held_figures(root)
    return [f for f in FIGURE.findall(_outside_blocks_and_code(text)) if _normal(f) not in held]


__all__ = [
    "BLOCK",
    "BLOCKS",
    "FIGURE",
    "RESULTS",
    "SOURCES",
    "body",
    "held_figures",
    "render",
    "results_text",
    "stale_blocks",
    "unheld_numbers",
]
