"""music21's Krumhansl–Schmuckler key of hand-made melodies, and the key check of a set."""

from __future__ import annotations

import numpy as np
import pytest
from music21.analysis.discrete import KrumhanslSchmuckler

from benchmarks.outside.keys import analyse_key, key_check
from melody_env.encoding import melody_to_stream
from reward_rules import table1_stats

# Krumhansl & Kessler's major-key profile, C to B.
KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]


def _quarters(classes: list[int]) -> np.ndarray:
    return np.array([t for c in classes for t in (c, 1, 1, 1)])


C_SCALE = _quarters([14, 16, 18, 19, 21, 23, 25, 26])  # C4 D E F G A B C5
G_SCALE = _quarters([21, 23, 25, 26, 28, 30, 32, 33])  # G4 A B C5 D E F#5 G5
A_MINOR = _quarters([11, 14, 18, 23, 18, 14, 11, 21])  # A3 C4 E4 A4 E4 C4 A3 G4


def test_c_major_scale_correlates_with_the_c_major_profile() -> None:
    key = analyse_key(C_SCALE)
    assert (key.tonic, key.mode, key.in_corpus_key) == ("C", "major", True)
    durations = [2, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]  # quarters per pitch class: C twice, the other 6 once
    assert key.correlation == pytest.approx(np.corrcoef(durations, KK_MAJOR)[0, 1])


def test_other_keys() -> None:
    a = analyse_key(A_MINOR)
    assert (a.tonic, a.mode, a.in_corpus_key) == ("A", "minor", True)
    g = analyse_key(G_SCALE)
    assert (g.tonic, g.mode, g.in_corpus_key) == ("G", "major", False)


@pytest.mark.parametrize("melody", [C_SCALE, G_SCALE, A_MINOR])
def test_same_key_as_music21s_get_solution(melody: np.ndarray) -> None:
    full = KrumhanslSchmuckler().getSolution(melody_to_stream(melody))
    ours = analyse_key(melody)
    assert (ours.tonic, ours.mode) == (full.tonic.name, full.mode)
    assert ours.correlation == pytest.approx(full.correlationCoefficient)


def test_a_melody_without_notes_has_no_key() -> None:
    assert analyse_key(np.zeros(32, dtype=np.int64)) is None


def test_key_check_of_a_set() -> None:
    melodies = np.stack([C_SCALE, C_SCALE, A_MINOR, G_SCALE, np.zeros(32, dtype=np.int64)])
    check = key_check(melodies, sample=10, seed=0)
    assert (check["analysed"], check["no_notes"]) == (4, 1)
    assert check["share_c_major_or_a_minor"] == pytest.approx(3 / 4)
    assert (check["share_c_major"], check["share_a_minor"]) == (pytest.approx(2 / 4), pytest.approx(1 / 4))
    correlations = [analyse_key(m).correlation for m in melodies[:4]]
    assert check["mean_correlation"] == pytest.approx(np.mean(correlations))
    assert check["notes_not_in_key"] == table1_stats(melodies)["notes_not_in_key"] == pytest.approx(1 / 160)  # F#


def test_key_check_samples_without_replacement_and_is_seeded() -> None:
    melodies = np.stack([C_SCALE] * 3 + [G_SCALE] * 3)
    runs = [key_check(melodies, sample=4, seed=s) for s in (7, 7)]
    assert runs[0]["analysed"] == 4
    assert runs[0]["share_c_major"] == runs[1]["share_c_major"]
    assert runs[0]["share_c_major"] in (1 / 4, 2 / 4, 3 / 4)  # 4 of 6 without replacement: 1 to 3 of each
    with pytest.raises(ValueError, match="sample must be at least 1"):
        key_check(melodies, sample=0)
