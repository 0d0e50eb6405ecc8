"""Melody encoding and its round trips (docs/spec.md §1): hand-made melodies, numbers worked out by hand."""

from pathlib import Path

import music21
import numpy as np
import pytest
import symusic

from melody_env.encoding import (
    MELODY_MARKER,
    PRIMER_MARKER,
    melody_to_notes,
    melody_to_stream,
    notes_to_melody,
    read_melody,
    read_primed,
    read_primer,
    stream_to_melody,
    transpose_melody,
    write_midi,
)

FIXTURES = Path(__file__).parent / "data"

# Hand-made melodies: leading rest, trailing rest, a note tied across the bar, repeated notes,
# the extreme classes 2 (C3) and 37 (B5), a lone step.
MELODIES = {
    "paper_example": [4, 1, 0, 1],
    "leading_and_trailing_rest": [0, 1, 1, 14, 1, 16, 1, 1, 0, 1, 1],
    "tied_across_bar": [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 14, *[1] * 9, 21, 1, 0],
    "repeated_notes": [14, 14, 14, 14, 1, 14, 0, 14],
    "extremes": [2, 1, 37, 1, 1, 0, 2],
    "single_step": [37],
}


def test_paper_example_decodes_to_eighth_d3_and_eighth_rest():
    assert melody_to_notes([4, 1, 0, 1]) == [(50, 0, 2)]  # D3 = MIDI 50 for two 16ths
    np.testing.assert_array_equal(notes_to_melody([50], [0], [2], length=4), [4, 1, 0, 1])


def test_notes_to_melody_consecutive_notes_need_no_note_off():
    # C4 for a quarter, E4 for an eighth, a 16th rest, G4 for a 16th.
    melody = notes_to_melody([60, 64, 67], [0, 4, 7], [4, 6, 8])
    np.testing.assert_array_equal(melody, [14, 1, 1, 1, 18, 1, 0, 21])


def test_melody_to_notes_leading_no_event_is_silence():
    assert melody_to_notes([1, 1, 14, 1]) == [(60, 2, 4)]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([60, 62], [0, 2], [3, 4]), "non-overlapping"),
        (([47], [0], [1]), r"\[48, 83\]"),
        (([60], [0], [0]), "start < end"),
        (([60], [0], [4], 3), "shorter than the last note end"),
        (([60, 62], [0], [1]), "differ in length"),
    ],
)
def test_notes_to_melody_rejects_bad_notes(args, match):
    with pytest.raises(ValueError, match=match):
        notes_to_melody(*args)


@pytest.mark.parametrize("name", list(MELODIES))
def test_stream_round_trip_is_exact(name):
    melody = np.array(MELODIES[name])
    np.testing.assert_array_equal(stream_to_melody(melody_to_stream(melody)), melody)


@pytest.mark.parametrize("name", list(MELODIES))
def test_midi_round_trip_is_exact(name, tmp_path):
    melody = np.array(MELODIES[name])
    path = write_midi(melody, tmp_path / "m.mid")
    np.testing.assert_array_equal(read_melody(path), melody)


def test_stream_ties_a_note_across_the_barline():
    part = melody_to_stream(MELODIES["tied_across_bar"])
    notes = list(part.flatten().notes)
    # C4 from step 12 to 22 = 0.75 quarter in bar 1, tied to 1.75 quarters in bar 2, then G4.
    assert [(n.pitch.midi, float(n.quarterLength)) for n in notes] == [(60, 1.0), (60, 1.5), (67, 0.5)]
    assert notes[0].tie.type == "start" and notes[1].tie.type == "stop"
    assert len(part.getElementsByClass(music21.stream.Measure)) == 2


def test_stream_to_melody_chord_keeps_highest_pitch():
    stream = music21.stream.Stream([music21.chord.Chord([60, 64, 67], quarterLength=0.5)])
    np.testing.assert_array_equal(stream_to_melody(stream), [21, 1])


def test_midi_pitch_and_tempo_are_exact(tmp_path):
    path = write_midi([14, 1, 1, 1, 15, 1], tmp_path / "c4.mid")
    score = symusic.Score(str(path))
    notes = score.tracks[0].notes
    assert [n.pitch for n in notes] == [60, 61]  # class 14 = C4 = MIDI 60
    assert [n.time * 4 // score.ticks_per_quarter for n in notes] == [0, 4]
    assert score.tempos[0].qpm == pytest.approx(80.0)
    assert symusic.Score(str(write_midi([14], tmp_path / "fast.mid", qpm=120.0))).tempos[0].qpm == pytest.approx(120.0)


def test_write_midi_leaves_no_temp_files(tmp_path):
    write_midi([14, 1], tmp_path / "out" / "m.mid")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["m.mid"]


def test_read_melody_abc_first_tune():
    # Tune 1 of the fixture: G A B c d e f# g (eighths) in G major; G4 = MIDI 67 = class 21.
    raw = read_melody(FIXTURES / "tiny.abc")
    assert raw[:6].tolist() == [21, 1, 23, 1, 25, 1]
    assert len(raw) == 64
    # Transposed to C: G4 → C (folded to C4 = class 14, the melody then spans C4..C5).
    assert read_melody(FIXTURES / "tiny.abc", transpose=True)[:6].tolist() == [14, 1, 16, 1, 18, 1]


def test_read_melody_folds_out_of_range_pitches(tmp_path):
    score = symusic.Score(480)
    track = symusic.Track()
    track.notes.append(symusic.Note(0, 480, 40, 80))  # E2, below the range
    track.notes.append(symusic.Note(480, 480, 90, 80))  # F#6, above it
    score.tracks.append(track)
    score.dump_midi(tmp_path / "wide.mid")
    # Folded note by note into [48, 84): E3 = 52 (class 6), F#5 = 78 (class 32).
    assert read_melody(tmp_path / "wide.mid").tolist() == [6, 1, 1, 1, 32, 1, 1, 1]


def test_read_melody_bad_files(tmp_path):
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"\x00\x17 not a midi file \xff" * 10)
    with pytest.raises(ValueError, match="cannot read"):
        read_melody(garbage)
    with pytest.raises(ValueError, match="not a file"):
        read_melody(tmp_path / "missing.mid")


def test_primer_is_written_before_the_melody_and_marked(tmp_path):
    # Primer C4 (1 step) then G4 held 2 more; the melody holds G4 two steps, rests, plays D4.
    primer, melody = np.array([14, 21, 1]), np.array([1, 1, 0, 16])
    path = write_midi(melody, tmp_path / "p.mid", primer=primer)
    np.testing.assert_array_equal(read_melody(path), [14, 21, 1, 1, 1, 0, 16])
    got_primer, got_melody = read_primed(path)
    np.testing.assert_array_equal(got_primer, primer)
    np.testing.assert_array_equal(got_melody, melody)
    score = symusic.Score(str(path))
    assert len(score.tracks) == 1  # one line: the held G4 really sounds from step 1 to step 5
    assert [(n.pitch, n.time * 4 // score.ticks_per_quarter, n.duration * 4 // score.ticks_per_quarter)
            for n in score.tracks[0].notes] == [(60, 0, 1), (67, 1, 4), (62, 6, 1)]  # fmt: skip
    markers = [(m.text, m.time * 4 // score.ticks_per_quarter) for m in score.markers]
    assert markers == [(PRIMER_MARKER, 0), (MELODY_MARKER, 3)]


def test_file_without_primer_reads_with_an_empty_primer(tmp_path):
    primer, melody = read_primed(write_midi([14, 1, 0, 1], tmp_path / "m.mid"))
    assert primer.tolist() == [] and melody.tolist() == [14, 1, 0, 1]
    assert read_primed(FIXTURES / "tiny.abc")[0].tolist() == []


def test_write_midi_takes_a_batch_one_file_per_row(tmp_path):
    melodies = np.array([[14, 1, 16, 1], [21, 0, 1, 23]])
    paths = write_midi(melodies, tmp_path / "x.mid", primer=np.array([[2], [37]]))
    assert [p.name for p in paths] == ["x_000.mid", "x_001.mid"]
    assert [read_primed(p)[0].tolist() for p in paths] == [[2], [37]]
    np.testing.assert_array_equal(read_primed(paths[1])[1], melodies[1])
    shared = write_midi(melodies, tmp_path / "y.mid", primer=[14, 1])  # a 1-D primer primes every row
    assert [read_melody(p).tolist()[:2] for p in shared] == [[14, 1], [14, 1]]
    with pytest.raises(ValueError, match=r"1-D \(one melody\) or 2-D"):
        write_midi(np.zeros((2, 2, 2), dtype=np.int64), tmp_path / "z.mid")
    with pytest.raises(ValueError, match=r"one row per melody \(2\), got 3 rows"):
        write_midi(melodies, tmp_path / "z.mid", primer=np.ones((3, 1), dtype=np.int64))


def test_transpose_melody_by_hand():
    # +2: C4 (14) → D4 (16); B5 (37) + 2 = C#6, above the range → C#5 (27); holds and rests stay.
    np.testing.assert_array_equal(transpose_melody([14, 1, 37, 0, 1], 2), [16, 1, 27, 0, 1])
    # -3 on a batch: C3 (2) → A2, below the range → A3 (11); E4 (18) → C#4 (15).
    np.testing.assert_array_equal(transpose_melody([[2, 18], [1, 0]], -3), [[11, 15], [1, 0]])


def test_read_primer_in_d_major_transposes_to_c_and_back(tmp_path):
    # D major scale in quarters, D4..D5: C# makes D the only major key holding all eight notes.
    d_major = notes_to_melody([62, 64, 66, 67, 69, 71, 73, 74], range(0, 32, 4), range(4, 36, 4))
    primer = read_primer(write_midi(d_major, tmp_path / "d.mid"))
    assert primer.shift == 2 and primer.key == "D major / B minor"
    np.testing.assert_array_equal(primer.original, d_major)
    assert primer.tokens[::4].tolist() == [14, 16, 18, 19, 21, 23, 25, 26]  # C major from C4
    np.testing.assert_array_equal(transpose_melody(primer.tokens, primer.shift), d_major)
