"""Corpus loading (docs/spec.md §2) on tiny hand-made ABC and MIDI fixtures; tokens worked out by hand."""

import shutil
import zlib
from pathlib import Path

import music21
import numpy as np
import pytest
import symusic

from melody_env.data import Corpus, CorpusError, extraction_rules, load_corpus, validation_mask
from melody_env.midi_extract import ExtractConfig, fold_octaves, major_key, transpose_to_c
from reward_rules.tokens import C_MAJOR, token_name

FIXTURES = Path(__file__).parent / "data"
STEP = 120  # ticks per 16th at 480 ticks per quarter

# tiny.abc tune 1 (G major, eighths) transposed G → C and folded to start on C4 (class 14).
TUNE_1 = [14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 23, 1, 25, 1, 26, 1, 26, 1, 25, 1, 23, 1, 21, 1, 19, 1, 18, 1, 16, 1, 14,
          1, 14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 1, 1, 18, 1, 1, 1, 14, *[1] * 15]  # fmt: skip
# tiny.abc tune 2 (A dorian, G major signature, 7/8): G → C shifts A4 to D4 (class 16). The eighth
# triplet A B c starts at steps 0, 4/3, 8/3 → 0, 1, 3; bars are 14 steps; the trailing z3 is dropped.
TUNE_2 = [16, 18, 1, 19, 21, 1, 1, 1, 23, 1, 1, 1, 23, 1,
          16, 1, 18, 1, 16, 1, 14, 1, 1, 1, 11, 1, 1, 1,
          16, 1, 1, 1, 18, 1, 1, 1, 19, 1, 1, 1, 21, 1,
          23, *[1] * 7]  # fmt: skip
D_MAJOR = [62, 64, 66, 67, 69, 71, 73]  # C# makes D the only major key holding all seven


def write_score(path: Path, tracks: list[list[tuple[int, int, int]]], drum: bool = False) -> Path:
    """A MIDI file of tracks given as (pitch, start_step, end_step) at 480 ticks per quarter."""
    score = symusic.Score(480)
    for notes in tracks:
        track = symusic.Track(is_drum=drum)
        for pitch, start, end in notes:
            track.notes.append(symusic.Note(start * STEP, (end - start) * STEP, pitch, 80))
        score.tracks.append(track)
    score.dump_midi(path)
    return path


def quarters(pitches: list[int], start: int = 0) -> list[tuple[int, int, int]]:
    return [(p, start + 4 * i, start + 4 * i + 4) for i, p in enumerate(pitches)]


@pytest.fixture(scope="module")
def midi_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("midi")
    write_score(folder / "good.mid", [quarters(D_MAJOR * 4 + D_MAJOR[:4])])  # 32 quarters = 8 bars
    phrase = D_MAJOR * 4  # 28 quarters = 7 bars
    write_score(folder / "two_phrases.mid", [quarters(phrase) + quarters(phrase, start=112 + 16)])
    (folder / "garbage.mid").write_bytes(bytes(range(256)) * 4)
    chords = quarters(D_MAJOR * 4 + D_MAJOR[:4])
    write_score(folder / "chords.mid", [[*chords, (50, 0, 4)]])  # D3 under the first note
    write_score(folder / "drums.mid", [quarters([36, 38] * 16)], drum=True)
    write_score(folder / "short.mid", [quarters(D_MAJOR + D_MAJOR[:5])])  # 12 quarters = 3 bars
    return folder


def test_abc_fixture_hand_encoded(tmp_path):
    corpus = load_corpus(FIXTURES, cache_dir=tmp_path, workers=1)
    assert corpus.ids == ["tiny.abc#0:0", "tiny.abc#1:0"]
    assert [m.tolist() for m in corpus.melodies] == [TUNE_1, TUNE_2]
    assert all(m.dtype == np.int8 for m in corpus.melodies)
    s = corpus.summary
    assert (s["files"], s["tunes"], s["melodies"], s["steps"]) == (1, 4, 2, 64 + 50)
    assert s["skipped"] == {"too_few_pitches": 1, "unparsable": 1}


def test_midi_folder_extraction_rules(midi_folder, tmp_path):
    corpus = load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    # D major → C major: D E F# G A B C# become C D E F G A B = classes 14 16 18 19 21 23 25.
    scale = [14, 16, 18, 19, 21, 23, 25]
    expected_good = np.array([[c, 1, 1, 1] for c in scale * 4 + scale[:4]]).ravel()
    expected_phrase = np.array([[c, 1, 1, 1] for c in scale * 4]).ravel()
    assert corpus.ids == ["good.mid:0", "two_phrases.mid:0", "two_phrases.mid:1"]
    np.testing.assert_array_equal(corpus.melodies[0], expected_good)
    np.testing.assert_array_equal(corpus.melodies[1], expected_phrase)  # a bar of silence splits
    np.testing.assert_array_equal(corpus.melodies[2], expected_phrase)
    assert corpus.summary["skipped"] == {"empty": 1, "polyphonic": 1, "too_short": 1, "unparsable": 1}
    assert corpus.summary["files"] == corpus.summary["tunes"] == 6


def test_polyphony_option_keeps_highest_note(midi_folder, tmp_path):
    corpus = load_corpus(midi_folder, cache_dir=tmp_path, workers=1, midi_config=ExtractConfig(polyphony="highest"))
    chords = corpus.melodies[corpus.ids.index("chords.mid:0")]
    assert chords[:5].tolist() == [14, 1, 1, 1, 16]  # D4 over D3 kept, transposed to C4
    assert "polyphonic" not in corpus.summary["skipped"]


def test_long_melody_truncated_to_512_steps(tmp_path):
    folder = tmp_path / "long"
    folder.mkdir()
    write_score(folder / "long.mid", [quarters(D_MAJOR * 23)])  # 161 quarters = 644 steps
    corpus = load_corpus(folder, cache_dir=tmp_path, workers=1)
    assert len(corpus.melodies[0]) == 512 and corpus.summary["truncated"] == 1


def test_music21_folk_tune(tmp_path):
    source = Path(music21.__file__).parent / "corpus" / "ryansMammoth" / "LanigansBallJig.abc"
    shutil.copy(source, tmp_path / "jig.abc")
    corpus = load_corpus(tmp_path, cache_dir=tmp_path / "cache", workers=1)
    melody = corpus.melodies[0].astype(np.int64)
    assert len(corpus) == 1 and 16 <= len(melody) <= 512 and melody[0] >= 2
    pitches = melody[melody >= 2]
    # E minor (G major signature) → A minor: the pickup F# E F# G A becomes B A B C D; ends on A.
    names = [token_name(int(t)).rstrip("0123456789") for t in pitches]
    assert names[:5] == ["B", "A", "B", "C", "D"] and names[-1] == "A"
    assert C_MAJOR.in_key[pitches].mean() > 0.85  # the tune's own accidentals (^A, ^c, ^d) stay out


def test_empty_or_missing_source_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"no \.mid/\.midi/\.abc file under .*empty; pass a folder"):
        load_corpus(tmp_path / "empty", cache_dir=tmp_path)
    with pytest.raises(CorpusError, match="missing does not exist; pass 'music21' or an existing folder"):
        load_corpus(tmp_path / "missing", cache_dir=tmp_path)


def test_cache_hit_on_second_load(midi_folder, tmp_path):
    first = load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    second = load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    assert not first.summary["cache_hit"] and second.summary["cache_hit"]
    assert second.ids == first.ids and second.summary["skipped"] == first.summary["skipped"]
    assert all(np.array_equal(a, b) for a, b in zip(first.melodies, second.melodies, strict=True))
    (cache_file,) = tmp_path.glob("corpus-*.npz")
    with np.load(cache_file, allow_pickle=False) as data:
        assert data["tokens"].dtype == np.int8 and data["offsets"].tolist() == [0, 128, 240, 352]
    load_corpus(midi_folder, cache_dir=tmp_path, workers=1, valid_fraction=0.5)  # other settings, other file
    assert len(list(tmp_path.glob("corpus-*.npz"))) == 2


def test_corrupt_cache_is_rebuilt(midi_folder, tmp_path):
    load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    (cache_file,) = tmp_path.glob("corpus-*.npz")
    cache_file.write_bytes(b"not an npz")
    corpus = load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    assert not corpus.summary["cache_hit"] and len(corpus) == 3


def test_two_workers_match_one(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(66):
        write_score(folder / f"m{i:02d}.mid", [quarters((D_MAJOR * 5)[i % 7 : i % 7 + 28 + i % 5])])
    one = load_corpus(folder, workers=1, use_cache=False)
    two = load_corpus(folder, workers=2, use_cache=False)
    assert one.ids == two.ids and len(one) == 66
    assert all(np.array_equal(a, b) for a, b in zip(one.melodies, two.melodies, strict=True))


def test_validation_split_is_deterministic_and_by_tune():
    ids = [f"file{i // 7}.abc#{i}:{k}" for i in range(2000) for k in range(2)]
    mask = validation_mask(ids, 0.1)
    np.testing.assert_array_equal(mask, validation_mask(list(ids), 0.1))
    np.testing.assert_array_equal(mask[0::2], mask[1::2])  # both melodies of a tune on one side
    assert 0.08 < mask.mean() < 0.12
    assert not validation_mask(ids, 0.0).any()


def test_openings_are_seeded_first_tokens_of_training_melodies():
    melodies = [np.array([14, 1], np.int8), np.array([21, 1], np.int8), np.array([9, 1], np.int8)]
    corpus = Corpus(melodies, ["a#0:0", "b#0:0", "c#0:0"], np.array([False, False, True]))
    drawn = corpus.openings(200, np.random.default_rng(3))
    np.testing.assert_array_equal(drawn, corpus.openings(200, 3))
    assert set(drawn.tolist()) == {14, 21}  # the validation melody (9) never primes
    assert corpus.opening(3) in (14, 21)
    assert [m.tolist() for m in corpus.train] == [[14, 1], [21, 1]] and len(corpus.valid) == 1


def test_key_estimate_transpose_and_fold():
    a_minor_tune = np.array([69, 71, 72, 74, 76, 72, 69])  # A B C D E: in C, F and G major
    assert major_key(a_minor_tune) == 0  # tie → lowest tonic: C, so the minor tune stays in A minor
    assert major_key(a_minor_tune, hint=7) == 7  # a G major key signature breaks the tie
    f_sharp_major = [66, 68, 70, 71, 73, 75, 77]
    assert transpose_to_c(f_sharp_major).tolist() == [72, 74, 76, 77, 79, 81, 83]  # shifts lie in −5..+6
    # Shifts −12, −24, −36 all fit; −24 centres the melody (mean 62) nearest MIDI 66.
    np.testing.assert_array_equal(fold_octaves(np.array([84, 86, 88])), [60, 62, 64])
    # No octave shift fits more than one note; 0 is the most central, then 30 and 100 fold alone.
    np.testing.assert_array_equal(fold_octaves(np.array([30, 60, 100])), [54, 60, 76])


def test_skipped_files_are_named_with_their_reason(midi_folder, tmp_path):
    corpus = load_corpus(midi_folder, cache_dir=tmp_path, workers=1)
    assert corpus.skipped == [
        "chords.mid: polyphonic",
        "drums.mid: empty",
        "garbage.mid: unparsable",
        "short.mid: too_short",
    ]
    assert load_corpus(midi_folder, cache_dir=tmp_path, workers=1).skipped == corpus.skipped  # kept in the cache
    abc = load_corpus(FIXTURES, cache_dir=tmp_path, workers=1)
    assert abc.skipped == ["tiny.abc#2: unparsable", "tiny.abc#3: too_few_pitches"]


def test_extraction_minimums_can_be_lowered(midi_folder, tmp_path):
    # short.mid is 3 bars: under MIDI's 7-bar minimum, kept with min_bars=3.
    corpus = load_corpus(midi_folder, cache_dir=tmp_path, workers=1, **extraction_rules(min_bars=3))
    assert "short.mid:0" in corpus.ids and "too_short" not in corpus.summary["skipped"]
    rules = extraction_rules(min_pitches=2)
    assert rules["midi_config"].min_bars == 7 and rules["abc_config"].min_bars == 2  # untouched
    assert rules["midi_config"].min_unique_pitches == rules["abc_config"].min_unique_pitches == 2
    assert len(load_corpus(FIXTURES, cache_dir=tmp_path, workers=1, **rules)) == 3  # the two-pitch tune too


def test_no_melody_left_names_the_flag_to_change(tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    write_score(folder / "a.mid", [quarters(D_MAJOR)])  # 7 quarters: under 2 bars
    (folder / "b.mid").write_bytes(b"corrupt")
    with pytest.raises(CorpusError, match=r"skipped: \{.*'too_short': 1.*\}.*7 bars \(MIDI\).*--min-bars"):
        load_corpus(folder, cache_dir=tmp_path)
    assert len(load_corpus(folder, cache_dir=tmp_path, **extraction_rules(min_bars=1))) == 1
    write_score(folder / "a.mid", [quarters([62, 64] * 16)])  # 8 bars of two pitches
    with pytest.raises(CorpusError, match="5 distinct pitches: lower the minimum with --min-pitches"):
        load_corpus(folder, cache_dir=tmp_path)


def test_small_corpus_split_keeps_a_tune_on_each_side():
    # crc32 % 10,000 of the tune ids: a.mid 401, b.mid 2817, c.mid 9009.
    assert [zlib.crc32(t) % 10_000 for t in (b"a.mid", b"b.mid", b"c.mid")] == [401, 2817, 9009]
    ids = ["b.mid:0", "a.mid:0", "a.mid:1"]
    # 3 %: no tune under 300, so the lowest hash (a.mid) is held out; 50 %: both under 5,000, so the
    # highest (b.mid) stays in training; 10 %: a.mid alone is under 1,000 anyway.
    for fraction in (0.03, 0.5, 0.1):
        assert validation_mask(ids, fraction).tolist() == [False, True, True]
    assert validation_mask(["c.mid:0", "b.mid:0"], 0.3).tolist() == [False, True]  # 2817 < 3000: as hashed
    assert not validation_mask(ids, 0.0).any() and not validation_mask(["a.mid:0"], 0.01).any()
