"""Outside measures: the melodies judged by an outside library against real held-out tunes.

* :mod:`.music`: our 38-class melodies as muspy ``Music`` objects;
* :mod:`.features`: muspy's metrics and the interval and note-length histograms;
* :mod:`.distances`: the distances of Yang & Lerch (2018), overlapping area and KL divergence;
* :mod:`.keys`: music21's Krumhansl–Schmuckler key of each melody;
* :mod:`.measures`: the validation reference and :func:`outside_measures`, what a sweep trial calls;
* :mod:`.report` and :mod:`.cli`: ``rl-tuner outside``, writing ``outside.json`` and ``outside.md``.
"""

from benchmarks.outside.features import FEATURE_NAMES, FEATURES, RULE_FREE, melody_features
from benchmarks.outside.measures import Reference, build_reference, outside_measures, validation_openings

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "RULE_FREE",
    "Reference",
    "build_reference",
    "melody_features",
    "outside_measures",
    "validation_openings",
]
