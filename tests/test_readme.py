"""The README as users read it: every import it shows works, and the generic-task example runs as written."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def readme_imports() -> list[str]:
    """Each ``import x`` / ``from x import a, b`` line of the README's python blocks."""
    lines = []
    for block in python_blocks():
        for line in block.splitlines():
            code = line.split("#")[0].strip()
            if code.startswith(("import ", "from ")) and " import " in f" {code}":
                lines.append(code)
    return sorted(set(lines))


def test_the_readme_shows_imports():
    assert len(readme_imports()) >= 10


@pytest.mark.parametrize("line", readme_imports())
def test_every_readme_import_works(line):
    if "sb3_contrib" in line:
        pytest.importorskip("sb3_contrib")
    if line.startswith("from "):
        module, names = re.match(r"from (\S+) import (.+)", line).groups()
        imported = importlib.import_module(module)
        for name in (n.strip().split(" as ")[0] for n in names.split(",")):
            assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}"), (module, name)
    else:
        for module in line.removeprefix("import ").split(","):
            importlib.import_module(module.strip().split(" as ")[0])


def test_the_generic_task_example_runs_as_written_and_raises_its_term():
    (block,) = [b for b in python_blocks() if "SequenceTask(" in b]
    namespace: dict = {}
    exec(block, namespace)
    agent, task = namespace["agent"], namespace["task"]
    melodies = agent.generate(200, seed=0)
    assert melodies.shape == (200, 16)
    assert (melodies == 3).mean() > 0.3  # the term's token: about a tenth under the untrained prior
    assert all(len(task.vocabulary.decode(row)) <= 16 for row in melodies[:4])  # the begin token is not text
