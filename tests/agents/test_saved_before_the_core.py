"""Tuners saved before the generic core (their files name a ``note_rnn_config``) still load and compose the same.

``data/legacy_*.zip`` were written by that version of the project: tiny Note RNNs (8 cells), 8-note
melodies, a few hundred training steps; ``legacy_expected.json`` holds what each composed then with
``generate(3, seed=1)``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from agents import KLPPO, RLTuner

DATA = Path(__file__).parent / "data"
EXPECTED = json.loads((DATA / "legacy_expected.json").read_text())


@pytest.mark.parametrize(("name", "cls"), [("q", RLTuner), ("g", RLTuner), ("kl_ppo", KLPPO)])
def test_an_old_file_loads_and_composes_as_it_did(name, cls):
    path = DATA / f"legacy_{name}.zip"
    with zipfile.ZipFile(path) as archive:
        assert "note_rnn_config" in json.loads(archive.read("data.json"))  # the old format, unchanged here
    agent = cls.load(path)
    assert agent.task is not None and agent.task.name == "melody" and agent.max_length == 8
    np.testing.assert_array_equal(agent.generate(3, seed=1), np.array(EXPECTED[name]))
