"""Every module of every package imports on its own (a moved or circular import fails here, by name)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = (
    "sequence_env",
    "reward_rules",
    "melody_env",
    "molecule_env",
    "agents",
    "benchmarks",
    "rl_tuner_cli",
    "listening_study",
)


def modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.")]
    return sorted(names)


@pytest.mark.parametrize("name", modules())
def test_module_imports(name):
    module = importlib.import_module(name)
    if hasattr(module, "__path__"):  # a package says what it exports (STYLE: every __init__.py has __all__)
        assert hasattr(module, "__all__"), f"{name} has no __all__"
