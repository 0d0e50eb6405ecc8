"""Hand-worked examples of the nine rules of docs/spec.md §4 (classes: C3=2, C4=14, D4=16, E4=18, F4=19,
G4=21, A4=23, B4=25, C5=26; 0 = note off, 1 = no event)."""

from __future__ import annotations

import numpy as np
import pytest

from reward_rules import RULE_NAMES, Key, music_theory_rewards
from reward_rules.detectors import autocorrelation


def col(melody: list[int], rule: str, length: int = 32, key: Key | None = None) -> list[float]:
    kwargs = {} if key is None else {"key": key}
    out = music_theory_rewards(np.array(melody), length=length, **kwargs)
    return out[:, RULE_NAMES.index(rule)].tolist()


def test_rule_names_in_spec_order() -> None:
    assert RULE_NAMES == (
        "key", "tonic", "repetition", "autocorrelation", "motif", "repeated_motif", "intervals",
        "leap_resolution", "unique_extremes",
    )  # fmt: skip


# Rule 1: −1 for a note outside the key set; 0 and 1 are in key.
def test_key_c_major() -> None:
    # C4 in, C#4 (15) out, 0/1 in, F#4 (20) out.
    assert col([14, 15, 0, 1, 20], "key") == [0, -1, 0, 0, -1]


def test_key_g_major_shifts_the_set() -> None:
    # In G major F (19) is out and F# (20) is in.
    assert col([19, 20], "key", key=Key.parse("G")) == [-1, 0]


# Rule 2: +3 for the tonic at beats 0 and 28, for 1 at beat 29, for 0/1 at beats 30-31.
def test_tonic_all_five_rewards() -> None:
    melody = [14] + [1] * 27 + [14, 1, 0, 1]
    expected = [3.0] + [0.0] * 27 + [3.0, 3.0, 3.0, 3.0]
    assert col(melody, "tonic") == expected


def test_tonic_wrong_tokens_score_nothing() -> None:
    # C5 (26) is not the tonic class 14; 0 at beat 29 is not 1; C4 at beat 30 is not 0/1.
    melody = [26] + [1] * 27 + [16, 0, 14, 1]
    assert sum(col(melody, "tonic")) == 3.0  # only beat 31 (a 1)


def test_tonic_follows_key_and_length() -> None:
    # D major: tonic class 16; length 8: beats 0 and 4 tonic, 5 hold, 6-7 off/hold.
    assert col([16, 1, 1, 1, 16, 1, 0, 0], "tonic", length=8, key=Key.parse("D")) == [3, 0, 0, 0, 3, 3, 3, 3]


# Rule 3: −100 for excessive repetition.
def test_repetition_sixth_identical_note() -> None:
    # At step t there are n = t earlier C4s and no marks: repeating once n > 4, i.e. the 6th C4.
    assert col([14] * 7, "repetition") == [0, 0, 0, 0, 0, -100, -100]


def test_repetition_holds_between_allow_seven() -> None:
    # C4 at index 2k has k earlier C4s with holds between ("held" mark): repeating once k > 6,
    # i.e. at index 14. The 1s are scanned: the C4 before them stops the scan, n = 0.
    melody = [14, 1] * 7 + [14]
    assert col(melody, "repetition") == [0.0] * 14 + [-100.0]


def test_repetition_rests_mark_too_and_other_pitch_stops() -> None:
    # Rests between: same threshold (index 14). A D4 in between restarts the count.
    assert col([14, 0] * 7 + [14], "repetition")[-1] == -100
    assert col([14, 14, 14, 14, 16, 14, 14, 14, 14], "repetition") == [0.0] * 9


def test_repetition_note_off_twice() -> None:
    # a = 0: the scan counts earlier 0s (1s mark, a pitch stops). Index 3 scans 1, 0, then C4
    # stops: n = 1 → fine. Index 4 scans 0, 1, 0, then C4: n = 2 > 1 → −100.
    assert col([14, 0, 1, 0, 0], "repetition") == [0, 0, 0, 0, -100]


def test_repetition_long_hold_is_repetition_as_in_original() -> None:
    # a = 1 counts earlier 1s with no mark: index t has n = t - 1; n > 4 first at t = 6.
    assert col([14, 1, 1, 1, 1, 1, 1], "repetition") == [0, 0, 0, 0, 0, 0, -100]


# Rule 4: −3|c| for each lag with |c| > 0.15.
def test_autocorrelation_coefficients_by_hand() -> None:
    # S = [2, 2, 4, 4]: mean 3, x = [-1, -1, 1, 1], var 1, n = 4.
    # lag 1: (1 - 1 + 1) / 4 = 0.25; lag 2: (-1 - 1) / 4 = -0.5; lag 3: -1 / 4 = -0.25.
    c = autocorrelation(np.array([[2, 2, 4, 4]]), np.array([3]))
    np.testing.assert_allclose(c, [[0.25, -0.5, -0.25]], rtol=0, atol=1e-15)


def test_autocorrelation_rule_by_hand() -> None:
    # [2, 4]: x = [-1, 1], var 1, lag 1 c = -1/2 → -1.5; lags 2, 3 have no pairs (c = 0).
    # [2, 4, 2]: mean 8/3, var 8/9, lag 1 c = (-16/9)/(3·8/9) = -2/3, lag 2 c = (4/9)/(8/3) = 1/6
    # → -3(2/3 + 1/6) = -2.5. [2, 2, 4, 4] at index 3: -3(0.25 + 0.5 + 0.25) = -3.
    assert col([2, 4, 2], "autocorrelation") == pytest.approx([0.0, -1.5, -2.5], abs=1e-12)
    assert col([2, 2, 4, 4], "autocorrelation")[3] == pytest.approx(-3.0, abs=1e-12)


def test_autocorrelation_tie_at_threshold_is_not_penalised() -> None:
    # [1, 16, 16, 16, 16]: mean 13, x = [-12, 3, 3, 3, 3], var 36; lag 1: -9/180 = -0.05,
    # lag 2: -18/180 = -0.1, lag 3: -27/180 = -0.15 exactly: |c| > 0.15 is False (exact arithmetic;
    # the original's floating-point estimate lands just above 0.15 and would charge -0.45).
    assert col([1, 16, 16, 16, 16], "autocorrelation")[4] == 0.0


def test_autocorrelation_constant_melody_is_skipped() -> None:
    assert col([14] * 10, "autocorrelation") == [0.0] * 10


# Rule 5: +3 + 0.3(u - 3) for u >= 3 distinct pitches in the last 8 tokens.
def test_motif_needs_eight_tokens() -> None:
    assert col([14, 16, 18, 1, 1, 1, 1, 1], "motif") == [0.0] * 7 + [3.0]


def test_motif_bonus_and_octaves() -> None:
    # u = 5 → 3 + 0.6; C4, C5, C3 are three distinct classes → 3; C4, C4, D4 → u = 2 → 0.
    assert col([14, 16, 18, 19, 21, 0, 1, 1], "motif")[7] == pytest.approx(3.6)
    assert col([14, 26, 2, 1, 1, 1, 1, 1], "motif")[7] == 3.0
    assert col([14, 14, 16, 1, 1, 1, 1, 1], "motif")[7] == 0.0


# Rule 6: +4 + (u - 3) when the motif's 8 tokens occurred earlier without overlap.
def test_repeated_motif_exact_copy() -> None:
    motif = [14, 16, 18, 19, 1, 1, 1, 1]  # u = 4
    # Only index 15 sees an earlier disjoint window (start 0) equal to its last 8: 4 + 1 = 5.
    assert col(motif + motif, "repeated_motif") == [0.0] * 15 + [5.0]


def test_repeated_motif_no_overlap() -> None:
    # Period-3 melody: at index p the last 8 start at p - 7 and an equal window starts at p - 16
    # (p - 10 and p - 13 overlap). So it fires from index 16 on, with u = 3 → 4.
    out = col([14, 16, 18] * 6, "repeated_motif")
    assert out == [0.0] * 16 + [4.0, 4.0]


def test_repeated_tokens_without_motif() -> None:
    # The 8 tokens repeat but hold one pitch: rule 5 does not fire, so neither does rule 6.
    assert col([14, 14, 1, 1, 1, 1, 1, 1] * 2, "repeated_motif") == [0.0] * 16


# Rule 7: preferred intervals (×5), from the previous pitch.
@pytest.mark.parametrize(
    ("pair", "reward"),
    [
        ([14, 21], 0.5),  # fifth from C
        ([21, 14], 0.5),  # fifth from G (down)
        ([16, 23], 0.1),  # fifth from D
        ([14, 18], 0.75),  # major third from C
        ([18, 22], 0.75),  # major third from E
        ([16, 20], 0.45),  # third from D
        ([14, 16], 0.4),
        ([14, 19], 0.35),
        ([14, 23], 0.25),
        ([14, 25], -1.5),  # major seventh
        ([14, 27], -5.0),  # more than an octave
        ([14, 26], 0.0),  # octave
        ([14, 15], 0.0),
        ([14, 14], 0.0),
        ([14, 1], 1.5),  # hold after C
        ([16, 1], 0.375),
        ([21, 0], 0.75),  # rest after G
        ([16, 0], 0.25),
        ([0, 1], 0.0),  # no previous pitch
        ([1, 14], 0.0),
    ],
)
def test_intervals_c_major(pair: list[int], reward: float) -> None:
    assert col(pair, "intervals") == pytest.approx([0.0, reward])


def test_intervals_skip_rests_to_find_previous_pitch() -> None:
    # C4, hold (after C: 1.5), rest (still after C: 0.75), G4 (fifth from C: 0.5).
    assert col([14, 1, 0, 21], "intervals") == pytest.approx([0.0, 1.5, 0.75, 0.5])


def test_intervals_follow_the_key() -> None:
    # G major: D is the dominant, B the third: D4→A4 = 0.5; C4→E4 = 0.45 (C is neither).
    g = Key.parse("G")
    assert col([16, 23], "intervals", key=g)[1] == pytest.approx(0.5)
    assert col([14, 18], "intervals", key=g)[1] == pytest.approx(0.45)
    # A minor: C is the third → C4→E4 = 0.75; E is the dominant → E4→G#4 = 0.45.
    a = Key.parse("A minor")
    assert col([14, 18], "intervals", key=a)[1] == pytest.approx(0.75)
    assert col([18, 22], "intervals", key=a)[1] == pytest.approx(0.45)


# Rule 8: +5 for a resolved leap, −5 for leaping twice the same way.
def test_leap_back_after_six_steps_is_not_resolved() -> None:
    # Leap C4→A4 (9 up) at index 1; six holds → 6 steps; A4→C4 leaps back: 6 > 6 is False → 0.
    out = col([14, 23] + [1] * 6 + [14], "leap_resolution")
    assert out == [0.0] * 9


def test_leap_back_after_seven_steps_is_resolved() -> None:
    assert col([14, 23] + [1] * 7 + [14], "leap_resolution") == [0.0] * 9 + [5.0]


def test_leap_resolved_gradually() -> None:
    # Up C4→A4 from C4; G4, E4, D4 stay above C4; C4 <= C4 → +5. Rests in between count as steps.
    assert col([14, 23, 21, 18, 16, 14], "leap_resolution") == [0, 0, 0, 0, 0, 5]
    assert col([14, 23, 0, 21, 0, 16, 14], "leap_resolution") == [0, 0, 0, 0, 0, 0, 5]
    # Down C5→C4 (12) from C5; back up to C5 → +5.
    assert col([26, 14, 16, 19, 23, 26], "leap_resolution") == [0, 0, 0, 0, 0, 5]


def test_leaping_twice() -> None:
    # C4→A4 up, A4→G5 (31, 8 up) again → −5, pending kept; G5→B5 (6) is no leap and stays above C4.
    assert col([14, 23, 31, 37], "leap_resolution") == [0, 0, -5, 0]
    # Leaping back right after (steps reset by the second leap) clears it without reward.
    assert col([14, 23, 31, 24, 14], "leap_resolution") == [0, 0, -5, 0, 0]


def test_leap_wider_than_an_octave() -> None:
    # C3→F#5 (28 up); seven holds; F#5→G3 (21 down) resolves it: +5.
    assert col([2, 30] + [1] * 7 + [9], "leap_resolution") == [0.0] * 9 + [5.0]


# Rule 9: at the last note only, +3 unique highest token, +3 unique lowest pitch.
def test_unique_extremes_both() -> None:
    assert col([14, 1, 1, 16, 1, 1, 21, 1], "unique_extremes", length=8) == [0.0] * 7 + [6.0]


def test_unique_extremes_repeated() -> None:
    assert col([14, 1, 21, 1, 14, 1, 21, 0], "unique_extremes", length=8) == [0.0] * 8
    # Highest unique, lowest repeated.
    assert col([14, 1, 25, 1, 14, 1, 21, 0], "unique_extremes", length=8)[-1] == 3.0


def test_unique_extremes_without_pitches_and_before_the_end() -> None:
    # No pitch: the highest token (1, occurring once) counts, as in the original; no lowest pitch.
    assert col([0, 1, 0, 0, 0, 0, 0, 0], "unique_extremes", length=8)[-1] == 3.0
    # A melody shorter than `length` never reaches the last note.
    assert col([14, 16, 21], "unique_extremes", length=8) == [0.0] * 3


def test_constant_melody_all_rules() -> None:
    # 32 × C4: key 0; tonic +3 at beats 0 and 28; repetition −100 from the 6th note (27 notes);
    # autocorrelation NaN → 0; motif u = 1 → 0; intervals d = 0 → 0; no leap; extremes repeated.
    out = music_theory_rewards(np.full(32, 14))
    totals = dict(zip(RULE_NAMES, out.sum(axis=0).tolist(), strict=True))
    assert totals == {
        "key": 0.0, "tonic": 6.0, "repetition": -2700.0, "autocorrelation": 0.0, "motif": 0.0,
        "repeated_motif": 0.0, "intervals": 0.0, "leap_resolution": 0.0, "unique_extremes": 0.0,
    }  # fmt: skip
