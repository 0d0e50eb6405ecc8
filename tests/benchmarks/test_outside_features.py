"""Melodies as muspy Music, and each outside feature on hand-made melodies with hand-worked values."""

from __future__ import annotations

import math

import muspy
import numpy as np
import pytest

from benchmarks.outside.features import FEATURE_NAMES, RULE_FREE, melody_features, scale_consistency
from benchmarks.outside.music import END_ANNOTATION, melody_to_music
from melody_env.encoding import melody_to_notes

C4, E4, G4, C3, B5 = 14, 18, 21, 2, 37  # MIDI 60, 64, 67, 48, 83
# Bar 1: C4 E4 quarters, G4 half. Bar 2: C4 E4 G4 quarters, a quarter rest.
ARPEGGIO = np.array([C4, 1, 1, 1, E4, 1, 1, 1, G4, *[1] * 7, C4, 1, 1, 1, E4, 1, 1, 1, G4, 1, 1, 1, 0, 1, 1, 1])
# A 16th C3, a 16th B5, then rests to the end of bar 2.
LEAP = np.array([C3, B5, 0, *[1] * 29])
SILENT = np.zeros(32, dtype=np.int64)
# C, C#, D, D# as half notes: C minor holds three of them (C, D, Eb), no scale holds all four.
CHROMATIC = np.array([c if i % 8 == 0 else 1 for i, c in enumerate(np.repeat([14, 15, 16, 17], 8))])


def _features(melody: np.ndarray) -> dict[str, np.ndarray]:
    return {name: value[0] for name, value in melody_features(melody[None]).items()}


def test_music_holds_the_melodys_notes_and_length() -> None:
    music = melody_to_music(ARPEGGIO)
    assert music.resolution == 4 and len(music.tracks) == 1
    notes = [(n.pitch, n.time, n.end) for n in music.tracks[0].notes]
    assert notes == melody_to_notes(ARPEGGIO)
    assert notes == [(60, 0, 4), (64, 4, 8), (67, 8, 16), (60, 16, 20), (64, 20, 24), (67, 24, 28)]
    assert [(a.time, a.annotation) for a in music.tracks[0].annotations] == [(32, END_ANNOTATION)]
    assert music.get_end_time() == 32  # the trailing rest counts


def test_last_tick_view_ends_every_note_one_tick_early() -> None:
    music = melody_to_music(LEAP, last_tick_ends=True)
    assert [(n.time, n.duration) for n in music.tracks[0].notes] == [(0, 0), (1, 0)]
    assert music.get_end_time() == 31


def test_bad_melodies_are_refused() -> None:
    with pytest.raises(ValueError, match="1-D"):
        melody_to_music(np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="class 38"):
        melody_features(np.full((1, 4), 38))
    with pytest.raises(ValueError, match=r"\(n, T\)"):
        melody_features(ARPEGGIO)


def test_arpeggio_features() -> None:
    f = _features(ARPEGGIO)
    assert f["pitch_range"] == [7]
    assert f["pitch_classes_used"] == [3]
    assert f["pitch_class_entropy"][0] == pytest.approx(math.log2(3))  # two each of C, E, G
    assert f["scale_consistency"] == [1.0]
    assert f["empty_beat_rate"][0] == pytest.approx(1 / 8)  # the last beat is a rest
    assert f["groove_consistency"] == [1.0]  # onsets on beats 1, 2, 3 of both bars
    intervals = np.zeros(14)
    intervals[[3, 4, 7]] = [2 / 5, 2 / 5, 1 / 5]  # 4 3 7 4 3
    np.testing.assert_allclose(f["interval_histogram"], intervals)
    lengths = np.zeros(9)
    lengths[[3, 5]] = [5 / 6, 1 / 6]  # five quarters, one half
    np.testing.assert_allclose(f["note_length_histogram"], lengths)


def test_muspy_given_exact_ends_counts_an_extra_beat_and_bar() -> None:
    exact = melody_to_music(ARPEGGIO)
    assert muspy.empty_beat_rate(exact) == pytest.approx(1 / 9)  # 9 beats, the last note's end marks beat 8
    assert muspy.groove_consistency(exact, 16) == pytest.approx(1 - 3 / 32)  # bar 2 against an empty bar 3


def test_leap_features() -> None:
    f = _features(LEAP)
    assert f["pitch_range"] == [35]
    assert f["pitch_classes_used"] == [2]
    assert f["pitch_class_entropy"] == [1.0]
    assert f["scale_consistency"] == [1.0]  # C and B are both in C major
    assert f["empty_beat_rate"][0] == pytest.approx(7 / 8)
    assert f["groove_consistency"][0] == pytest.approx(1 - 2 / 16)  # two onsets in bar 1, none in bar 2
    assert f["interval_histogram"][-1] == 1.0  # 35 semitones: more than an octave
    assert f["note_length_histogram"][0] == 1.0  # two 16ths


def test_chromatic_scale_consistency() -> None:
    assert [p for p, _, _ in melody_to_notes(CHROMATIC)] == [60, 61, 62, 63]
    f = _features(CHROMATIC)
    assert f["scale_consistency"] == [0.75]
    assert f["note_length_histogram"][5] == 1.0  # four half notes
    np.testing.assert_allclose(f["interval_histogram"][1], 1.0)


def test_scale_consistency_equals_muspys() -> None:
    """The one-pass count gives muspy's floats, on random melodies of every density and on silence."""
    rng = np.random.default_rng(0)
    melodies = rng.integers(0, 38, (200, 32))
    melodies[rng.random((200, 32)) < rng.random((200, 1))] = 1  # 0-100 % held steps
    for melody in [*melodies, SILENT, CHROMATIC, ARPEGGIO]:
        music = melody_to_music(melody)
        ours, theirs = scale_consistency(music), muspy.scale_consistency(music)
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs)), melody


def test_silent_melody_leaves_note_features_undefined() -> None:
    f = _features(SILENT)
    for name in ("pitch_class_entropy", "scale_consistency", "interval_histogram", "note_length_histogram"):
        assert np.isnan(f[name]).all(), name
    assert f["pitch_range"] == [0] and f["pitch_classes_used"] == [0]
    assert f["empty_beat_rate"] == [1.0] and f["groove_consistency"] == [1.0]


def test_one_note_has_no_interval() -> None:
    f = _features(np.array([C4, *[1] * 31]))
    assert np.isnan(f["interval_histogram"]).all()
    assert f["note_length_histogram"][-1] == 1.0  # 32 steps: "other"


def test_features_of_a_batch_are_row_by_row() -> None:
    batch = melody_features(np.stack([ARPEGGIO, LEAP, SILENT]))
    assert set(batch) == set(FEATURE_NAMES)
    assert batch["interval_histogram"].shape == (3, 14) and batch["pitch_range"].shape == (3, 1)
    np.testing.assert_array_equal(batch["pitch_range"][:, 0], [7, 35, 0])


def test_rule_free_features() -> None:
    assert RULE_FREE == ("pitch_range", "pitch_class_entropy", "groove_consistency")
