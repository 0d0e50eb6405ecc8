"""The schedule: balanced model pairs, bounded melody use, reproducible from its seed, checks placed."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from listening_study.schedule import CHECK_POOL, Design, listener_schedule, model_pairs, pair_stream

MODELS = ("note_rnn", "q", "psi", "g")


def _design(**kwargs) -> Design:
    settings = {"models": MODELS, "melodies": dict.fromkeys(MODELS, 5), "pairs": 10, "seed": 3}
    return Design(**{**settings, **kwargs})


def test_model_pairs_are_every_unordered_pair() -> None:
    assert model_pairs(("a", "b", "c")) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_stream_rounds_hold_every_pair_once() -> None:
    stream = pair_stream(_design(), 6 * 7)
    for r in range(7):
        assert sorted(stream[6 * r : 6 * r + 6]) == sorted(model_pairs(MODELS))


def test_every_model_pair_equally_often_across_listeners() -> None:
    design = _design()
    for listeners in (1, 3, 7, 30):
        counts = Counter()
        for k in range(listeners):
            counts.update(frozenset((s.a[0], s.b[0])) for s in listener_schedule(design, k))
        assert len(counts) == 6 and max(counts.values()) - min(counts.values()) <= 1, (listeners, counts)


def test_each_melody_used_a_bounded_number_of_times() -> None:
    design = _design(melodies={"note_rnn": 5, "q": 3, "psi": 4, "g": 7})
    uses = Counter()
    for k in range(20):
        for slot in listener_schedule(design, k):
            uses.update([slot.a, slot.b])
    for model, count in design.melodies.items():
        per = [uses[(model, i)] for i in range(count)]
        assert max(per) - min(per) <= 1, (model, per)


def test_schedule_is_reproducible_from_the_seed_and_differs_between_listeners_and_seeds() -> None:
    design = _design()
    assert listener_schedule(design, 4) == listener_schedule(_design(), 4)
    assert listener_schedule(design, 4) != listener_schedule(design, 5)
    assert listener_schedule(design, 4) != listener_schedule(_design(seed=4), 4)


def test_sides_are_shuffled() -> None:
    design = _design()
    order = {m: i for i, m in enumerate(MODELS)}
    sides = Counter(order[s.a[0]] < order[s.b[0]] for k in range(20) for s in listener_schedule(design, k))
    assert sides[True] > 50 and sides[False] > 50  # 200 pairs, each side first about half the time


def test_attention_checks_are_placed_after_the_first_pair() -> None:
    design = _design(checks=("identical", "anchor"))
    for k in range(2 * CHECK_POOL):
        slots = listener_schedule(design, k)
        assert [s.position for s in slots] == list(range(1, design.positions + 1))
        checks = [s for s in slots if s.check]
        assert sorted(s.check for s in checks) == ["anchor", "identical"] and slots[0].check is None
        same = next(s for s in checks if s.check == "identical")
        assert {same.a[0], same.b[0]} == {"check"} and same.a[1] // 2 == same.b[1] // 2 and same.a != same.b
        anchor = next(s for s in checks if s.check == "anchor")
        assert sorted([anchor.a[0] == "anchor", anchor.b[0] == "anchor"]) == [False, True]


def test_a_listener_hears_no_melody_twice_when_there_are_enough() -> None:
    design = _design(melodies=dict.fromkeys(MODELS, 10))
    for k in range(10):
        heard = [m for s in listener_schedule(design, k) for m in (s.a, s.b)]
        assert len(heard) == len(set(heard))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ("q",)}, "at least two different models"),
        ({"melodies": {"note_rnn": 5}}, r"no melodies for model\(s\) q, psi, g"),
        ({"pairs": 0}, "at least 1"),
        ({"checks": ("loud",)}, "unknown attention check"),
    ],
)
def test_bad_designs_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        _design(**kwargs)


def test_pairs_cover_all_models() -> None:
    slots = listener_schedule(_design(), 0)
    assert set(itertools.chain.from_iterable((s.a[0], s.b[0]) for s in slots)) == set(MODELS)
