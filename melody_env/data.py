"""The melody corpus the Note RNN learns from (docs/spec.md §2), encoded once and cached on disk.

``load_corpus()`` reads the ABC folk collections shipped inside music21 (Essen, O'Neill's 1850,
Ryan's Mammoth, Aird's Airs: ≈12.7k tunes); ``load_corpus(folder)`` reads every ``.mid``/``.midi``
and ``.abc`` file below a folder. Each tune or file goes through Magenta's melody extraction
(:mod:`melody_env.midi_extract`), is transposed to C major / A minor, folded into MIDI [48, 84) and
encoded as 38-class tokens (:func:`melody_env.encoding.notes_to_melody`). A file or tune that cannot
be used (corrupt, empty, too short, too few pitches, polyphonic) is skipped, never fatal: it is
counted per reason in ``Corpus.summary["skipped"]`` and named in ``Corpus.skipped``.

Folk tunes (ABC) use :data:`~melody_env.midi_extract.ABC_RULES`: the melody voice only, ≥ 2 bars and
≥ 5 distinct pitches (Magenta's 7 bars would drop most short Essen songs), repeats played out,
grace notes and chord symbols ignored, triplets and odd meters quantized to the 16th grid.
:func:`extraction_rules` lowers the minimums for both kinds (``rl-tuner corpus --min-bars 2``).

The encoded corpus is stored as ``.npz`` (flat int8 tokens + offsets, no pickle) under
``$RL_TUNER_CACHE`` or ``~/.cache/rl-tuner``, keyed by the source, its files (size, mtime), the
settings and :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from melody_env import abc
from melody_env.encoding import notes_to_melody
from melody_env.midi_extract import ABC_RULES, MIDI_RULES, ExtractConfig, extract_melodies, score_tracks
from sequence_env.atomic import atomic_write

FORMAT_VERSION = 3
"""Bump when the encoding or extraction changes, so old caches are not reused."""
MUSIC21_COLLECTIONS = ("essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs")
"""The ABC folk collections of music21's corpus that form the default corpus (docs/spec.md §2)."""
MIDI_SUFFIXES = (".mid", ".midi")
_MIN_TASKS_PER_WORKER = 16
_ABC_CHUNK = 100


@dataclass
class Corpus:
    """Encoded melodies with a deterministic train/validation split.

    :param melodies: int8 token arrays (variable length), one per melody.
    :param ids: ``"<file>#<tune>:<melody>"`` for each melody.
    :param is_valid: True for validation melodies (chosen by a hash of the tune id).
    :param summary: files, tunes, melodies, steps, skipped per reason, truncated, seconds, cache.
    :param skipped: ``"<file>[#<tune>]: <reasons>"`` for each file or tune that gave no melody.
    """

    melodies: list[np.ndarray]
    ids: list[str]
    is_valid: np.ndarray
    summary: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.melodies)

    @property
    def train(self) -> list[np.ndarray]:
        """Training melodies."""
        return [m for m, v in zip(self.melodies, self.is_valid, strict=True) if not v]

    @property
    def valid(self) -> list[np.ndarray]:
        """Validation melodies."""
        return [m for m, v in zip(self.melodies, self.is_valid, strict=True) if v]

    def openings(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """First tokens of ``n`` training melodies drawn uniformly (to prime the env, docs/spec.md §6).

        :param n: number of openings.
        :param rng: a numpy Generator or a seed.
        :returns: (n,) int64 note classes.
        """
        firsts = np.array([m[0] for m, v in zip(self.melodies, self.is_valid, strict=True) if not v], dtype=np.int64)
        if not len(firsts):
            raise ValueError("the corpus has no training melodies to draw openings from")
        return firsts[np.random.default_rng(rng).integers(len(firsts), size=n)]

    def opening(self, rng: np.random.Generator | int | None = None) -> int:
        """First token of one random training melody."""
        return int(self.openings(1, rng)[0])


class CorpusError(ValueError):
    """The corpus source does not exist or no melody in it passes the extraction rules."""


def extraction_rules(min_bars: float | None = None, min_pitches: int | None = None) -> dict[str, ExtractConfig]:
    """``midi_config`` and ``abc_config`` for :func:`load_corpus` with other minimums (``None``: keep the default).

    :param min_bars: shortest melody kept, in bars, for MIDI files and ABC tunes alike (defaults: 7 and 2).
    :param min_pitches: fewest distinct pitches a melody must hold, for both (default: 5).
    """
    if min_pitches is not None and (isinstance(min_pitches, bool) or not isinstance(min_pitches, int)):
        raise ValueError(f"min_pitches must be an int, got {min_pitches!r}")
    changes = {
        **({} if min_bars is None else {"min_bars": float(min_bars)}),
        **({} if min_pitches is None else {"min_unique_pitches": min_pitches}),
    }
    return {"midi_config": replace(MIDI_RULES, **changes), "abc_config": replace(ABC_RULES, **changes)}


def default_cache_dir() -> Path:
    """``$RL_TUNER_CACHE`` or ``~/.cache/rl-tuner``."""
    return Path(os.environ.get("RL_TUNER_CACHE") or Path.home() / ".cache" / "rl-tuner")


def _music21_files() -> tuple[Path, list[Path]]:
    import music21

    root = Path(music21.__file__).parent / "corpus"
    return root, sorted(p for name in MUSIC21_COLLECTIONS for p in (root / name).rglob("*.abc"))


def _source_files(source: str | Path) -> tuple[Path, list[Path]]:
    if str(source) == "music21":
        return _music21_files()
    root = Path(source).expanduser().resolve()
    if root.is_file():
        return root.parent, [root]
    if not root.is_dir():
        raise CorpusError(
            f"corpus source {source!s} does not exist; pass 'music21' or an existing folder of MIDI/ABC files"
        )
    suffixes = (*MIDI_SUFFIXES, ".abc")
    return root, sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _encode_score(score, tune_id: str, config: ExtractConfig, counts: Counter) -> list[tuple[str, np.ndarray]]:
    melodies = []
    tracks = score_tracks(score, first_only=config.first_track_only)
    if not tracks:
        counts["empty"] += 1
    for track in tracks:
        melodies += extract_melodies(track, config, counts)
    return [
        (f"{tune_id}:{k}", notes_to_melody(m.pitches, m.starts, m.ends).astype(np.int8)) for k, m in enumerate(melodies)
    ]


def _encode_task(
    task: tuple, midi_config: ExtractConfig, abc_config: ExtractConfig, counts: Counter, skipped: list[str]
):
    """Melodies of one task: ``("midi", file_id, path)`` or ``("abc", file_id, header, [(index, tune)])``.

    Rejections are counted per reason in ``counts``; a tune (or MIDI file) giving no melody is
    appended to ``skipped`` as ``"<id>: <reasons>"``.
    """
    import symusic

    if task[0] == "midi":
        try:
            scores = [(task[1], symusic.Score(task[2]))]
        except Exception:  # the MIDI parser's errors: any failure means an unusable file
            scores = [(task[1], None)]
        config = midi_config
    else:
        _, file_id, header, tunes = task
        parsed = abc.parse_tunes([t for _, t in tunes], header)
        scores = [(f"{file_id}#{i}", score) for (i, _), score in zip(tunes, parsed, strict=True)]
        config = abc_config
    out = []
    for tune_id, score in scores:
        tune_counts: Counter = Counter()
        melodies = []
        if score is None:
            tune_counts["unparsable"] += 1
        else:
            try:
                melodies = _encode_score(score, tune_id, config, tune_counts)
            except Exception as err:  # never let one odd tune stop the corpus
                tune_counts[f"error:{type(err).__name__}"] += 1
        if not melodies:
            reasons = ", ".join(k for k in sorted(tune_counts) if k != "truncated") or "no melody"
            skipped.append(f"{tune_id}: {reasons}")
        counts.update(tune_counts)
        out += melodies
    return out


def _encode_batch(tasks: list[tuple], midi_config: ExtractConfig, abc_config: ExtractConfig):
    counts, skipped = Counter(), []
    out = [m for task in tasks for m in _encode_task(task, midi_config, abc_config, counts, skipped)]
    return out, counts, skipped


def _tasks(root: Path, files: list[Path], counts: Counter, skipped: list[str]) -> tuple[list[tuple], int]:
    """Work items (MIDI files, chunks of ABC tunes) and the number of tunes they hold."""
    tasks, n_tunes = [], 0
    for path in files:
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() in MIDI_SUFFIXES:
            tasks.append(("midi", rel, str(path)))
            n_tunes += 1
            continue
        try:
            header, tunes = abc.split_tunes(abc.read_text(path))
        except OSError:
            counts["unreadable"] += 1
            skipped.append(f"{rel}: unreadable")
            continue
        if not tunes:
            counts["no_tunes"] += 1
            skipped.append(f"{rel}: no_tunes")
        n_tunes += len(tunes)
        indexed = list(enumerate(tunes))
        tasks += [("abc", rel, header, indexed[i : i + _ABC_CHUNK]) for i in range(0, len(indexed), _ABC_CHUNK)]
    return tasks, n_tunes


def _run(tasks, midi_config: ExtractConfig, abc_config: ExtractConfig, workers: int, counts: Counter, skipped: list):
    """Encode all tasks, in ``workers`` spawned processes when there are enough tasks to pay for them."""
    workers = min(workers, len(tasks) // _MIN_TASKS_PER_WORKER)
    if workers > 1:
        size = -(-len(tasks) // (8 * workers))
        batches = [(tasks[i : i + size], midi_config, abc_config) for i in range(0, len(tasks), size)]
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.starmap(_encode_batch, batches, chunksize=1)
    else:
        results = [_encode_batch(tasks, midi_config, abc_config)]
    encoded = []
    for out, batch_counts, batch_skipped in results:
        encoded += out
        counts.update(batch_counts)
        skipped += batch_skipped
    return encoded


def validation_mask(ids: list[str], valid_fraction: float = 0.1) -> np.ndarray:
    """Deterministic split: a melody is held out if crc32 of its tune id falls in the first fraction.

    Melodies of one tune (ids ``"<tune>:<k>"``) share the tune's side of the split. With
    ``valid_fraction > 0`` and at least two tunes, neither side is left empty: if the hash puts every
    tune on one side, the tune with the lowest (or highest) hash moves to the other, so a small
    folder still gets a validation tune.

    :param ids: melody ids ``"<file>#<tune>:<melody>"``.
    :param valid_fraction: expected share of tunes held out.
    :returns: (len(ids),) bool, True = validation.
    """
    tunes = [i.rsplit(":", 1)[0] for i in ids]
    hashes = np.array([zlib.crc32(t.encode()) % 10_000 for t in tunes], dtype=np.int64)
    mask = hashes < valid_fraction * 10_000
    if valid_fraction > 0 and len(set(tunes)) > 1 and (mask.all() or not mask.any()):
        order = np.lexsort((np.array(tunes), hashes))
        moved = tunes[order[0]] if not mask.any() else tunes[order[-1]]
        mask ^= np.array([t == moved for t in tunes])
    return mask


def _cache_key(root: Path, files: list[Path], settings: dict) -> str:
    stats = [(p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    blob = json.dumps({"format_version": FORMAT_VERSION, "root": str(root), "files": stats, **settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _save(path: Path, corpus: Corpus) -> None:
    lengths = np.array([len(m) for m in corpus.melodies], dtype=np.int64)
    tokens = np.concatenate(corpus.melodies) if corpus.melodies else np.zeros(0, dtype=np.int8)
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            tokens=tokens.astype(np.int8),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            ids=np.array(corpus.ids, dtype=str),
            is_valid=corpus.is_valid,
            summary=np.array(json.dumps(corpus.summary)),
            skipped=np.array(corpus.skipped, dtype=str),
        )


def _load(path: Path) -> Corpus | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            offsets, tokens = data["offsets"], data["tokens"]
            melodies = [tokens[a:b] for a, b in itertools.pairwise(offsets)]
            summary = json.loads(str(data["summary"]))
            return Corpus(melodies, data["ids"].tolist(), data["is_valid"], summary, data["skipped"].tolist())
    except (OSError, ValueError, KeyError):
        return None


def load_corpus(
    source: str | Path = "music21",
    cache_dir: str | Path | None = None,
    *,
    midi_config: ExtractConfig = MIDI_RULES,
    abc_config: ExtractConfig = ABC_RULES,
    valid_fraction: float = 0.1,
    workers: int = 2,
    use_cache: bool = True,
) -> Corpus:
    """Load (from cache) or encode a corpus of melodies (docs/spec.md §2).

    :param source: ``"music21"`` (the folk ABC collections inside music21), or a folder (or a single
        file) of ``.mid``/``.midi``/``.abc`` files.
    :param cache_dir: where encoded corpora are kept (default ``$RL_TUNER_CACHE`` or ``~/.cache/rl-tuner``).
    :param midi_config: extraction rules for MIDI files (Magenta's: 7 bars, 5 pitches, 512 steps).
    :param abc_config: extraction rules for ABC tunes (melody voice, ≥ 2 bars, ≥ 5 pitches); see
        :func:`extraction_rules` to lower the minimums of both.
    :param valid_fraction: share of tunes held out for validation (by a hash of the tune id; see
        :func:`validation_mask`).
    :param workers: processes used to encode (1 = in this process). Workers are spawned, so a script
        calling this on a cold cache must do so under ``if __name__ == "__main__":``.
    :param use_cache: read and write the on-disk cache.
    :raises CorpusError: when the source does not exist or no melody passes the extraction rules (the
        message names the setting to change).
    """
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    t0 = time.perf_counter()
    root, files = _source_files(source)
    settings = {"midi": asdict(midi_config), "abc": asdict(abc_config), "valid_fraction": valid_fraction}
    cache_path = Path(cache_dir or default_cache_dir()) / f"corpus-{_cache_key(root, files, settings)}.npz"
    if use_cache and cache_path.is_file() and (cached := _load(cache_path)) is not None:
        cached.summary.update(cache=str(cache_path), cache_hit=True, load_seconds=time.perf_counter() - t0)
        return cached
    counts: Counter = Counter()
    skipped: list[str] = []
    tasks, n_tunes = _tasks(root, files, counts, skipped)
    encoded = _run(tasks, midi_config, abc_config, max(1, workers), counts, skipped)
    truncated = counts.pop("truncated", 0)
    if not encoded:
        raise CorpusError(_no_melody_message(source, len(files), counts, midi_config, abc_config))
    ids = [i for i, _ in encoded]
    melodies = [m for _, m in encoded]
    summary = {
        "source": str(source),
        "files": len(files),
        "tunes": n_tunes,
        "melodies": len(melodies),
        "steps": int(sum(len(m) for m in melodies)),
        "skipped": dict(sorted(counts.items())),
        "truncated": truncated,
        "seconds": round(time.perf_counter() - t0, 2),
        "format_version": FORMAT_VERSION,
    }
    corpus = Corpus(melodies, ids, validation_mask(ids, valid_fraction), summary, sorted(skipped))
    summary["valid_melodies"] = int(corpus.is_valid.sum())
    if use_cache:
        _save(cache_path, corpus)
    corpus.summary.update(cache=str(cache_path) if use_cache else None, cache_hit=False)
    return corpus


def _no_melody_message(source, n_files: int, counts: Counter, midi: ExtractConfig, abc_rules: ExtractConfig) -> str:
    """Why no melody survived, and the setting that changes it."""
    if not n_files:
        return f"no .mid/.midi/.abc file under {source!s}; pass a folder holding MIDI or ABC files"
    found = f"no melody in {source!s} passed the extraction rules ({n_files} files; skipped: {dict(counts)})"
    if counts.get("too_short"):
        fix = (
            f"melodies must span {midi.min_bars:g} bars (MIDI) / {abc_rules.min_bars:g} bars (ABC): lower the "
            "minimum with --min-bars (Python: load_corpus(**extraction_rules(min_bars=...)))"
        )
    elif counts.get("too_few_pitches"):
        fix = (
            f"melodies must hold {midi.min_unique_pitches} distinct pitches: lower the minimum with --min-pitches "
            "(Python: load_corpus(**extraction_rules(min_pitches=...)))"
        )
    elif counts.get("polyphonic"):
        fix = "every MIDI track plays chords: keep the top note with ExtractConfig(polyphony='highest')"
    else:
        fix = "the files hold no readable notes: pass MIDI or ABC files with monophonic melodies"
    return f"{found}; {fix}"


__all__ = [
    "FORMAT_VERSION",
    "MUSIC21_COLLECTIONS",
    "Corpus",
    "CorpusError",
    "default_cache_dir",
    "extraction_rules",
    "load_corpus",
    "validation_mask",
]
