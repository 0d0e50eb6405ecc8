"""Make a study folder from a results folder: pick each model's melodies, render them under opaque names.

The input is a folder written by ``rl-tuner reproduce`` or ``rl-tuner demo``: its ``melodies_<model>.npz``
(every scored melody) are preferred; without them, the rendered ``samples/<model>/*.wav``. The study folder
gets ``audio/<random id>.wav`` for each chosen melody, attention-check copy and low anchor, and
``study.sqlite`` last (its creation is the commit point: a folder without it is rebuilt). Audio is written
by :func:`melody_env.listen.write_wav` (RIFF ``fmt`` and ``data`` chunks only, no metadata) or, for given
WAVs, re-written from their samples alone; melodies of the same length give files of the same size.
"""

from __future__ import annotations

import secrets
import shutil
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from listening_study import db
from listening_study.schedule import CHECK_KINDS, CHECK_POOL, Design
from melody_env.encoding import DEFAULT_QPM
from melody_env.listen import write_wav
from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES, STEPS_PER_QUARTER, validate_melody
from sequence_env.atomic import atomic_write

PAPER_MODELS = ("note_rnn", "q", "psi", "g")
"""The models of the paper's Figure 3, the default where the folder has them."""
RESERVED = ("check", "anchor")
"""Names the study uses for its attention-check items; no model may have them."""
AUDIO_DIR = "audio"


@dataclass(frozen=True)
class Source:
    """One model's melodies in the input folder: token rows (from the npz) or WAV files (no tokens)."""

    model: str
    melodies: np.ndarray | None = None
    wavs: tuple[Path, ...] = ()

    def __len__(self) -> int:
        return len(self.wavs) if self.melodies is None else len(self.melodies)


def find_sources(folder: str | Path, models: Sequence[str] | None = None) -> tuple[dict[str, Source], list[str]]:
    """The models' melodies in ``folder`` and the files skipped as unreadable.

    :param models: the models to use (None: the paper's four where present, else every model found).
    :raises FileNotFoundError: ``folder`` does not exist.
    :raises ValueError: a named model has no melodies there, or fewer than two models have any.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(2, "No such folder", str(root))
    found: dict[str, Source] = {}
    skipped: list[str] = []
    for path in sorted(root.glob("melodies_*.npz")):
        try:
            with np.load(path, allow_pickle=False) as data:
                melodies = validate_melody(np.asarray(data["melodies"]), name=path.name)
            if melodies.ndim != 2 or len(melodies) == 0:
                raise ValueError(f"{path.name} holds no (N, T) melodies")
        except (OSError, ValueError, KeyError) as err:
            skipped.append(f"{path}: {' '.join(str(err).split())}")
            continue
        found[path.stem.removeprefix("melodies_")] = Source(path.stem.removeprefix("melodies_"), melodies)
    for folder_ in sorted(p for p in (root / "samples").glob("*") if p.is_dir()):
        wavs = tuple(sorted(folder_.glob("*.wav")))
        if folder_.name not in found and wavs:
            found[folder_.name] = Source(folder_.name, wavs=wavs)
    clash = sorted(set(found) & set(RESERVED))
    if clash:
        raise ValueError(f"model name(s) {clash} are reserved for attention checks; rename those files")
    if models is None:
        chosen = [m for m in PAPER_MODELS if m in found]
        models = chosen if len(chosen) >= 2 else list(found)
    missing = [m for m in models if m not in found]
    if missing:
        have = ", ".join(found) or "none"
        raise ValueError(f"no melodies for model(s) {', '.join(missing)} in {root} (found: {have})")
    if len(models) < 2:
        raise ValueError(
            f"{root} has no audio or melodies of two models (melodies_<model>.npz or samples/<model>/*.wav); "
            "run rl-tuner demo or rl-tuner reproduce first"
        )
    return {m: found[m] for m in models}, skipped


def _copy_wav(src: Path, dest: Path) -> None:
    """Re-write ``src``'s samples alone (no metadata chunks) to ``dest``."""
    with wave.open(str(src), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    with atomic_write(dest, ".wav") as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(params.nchannels)
        out.setsampwidth(params.sampwidth)
        out.setframerate(params.framerate)
        out.writeframes(frames)


def random_notes(length: int, rng: np.random.Generator) -> np.ndarray:
    """The low anchor: a new random pitch onset on every step (classes 2..37)."""
    return rng.integers(FIRST_PITCH_CLASS, NUM_CLASSES, size=length)


def build(
    source: str | Path,
    study: str | Path,
    models: Sequence[str] | None = None,
    per_model: int = 10,
    pairs: int = 12,
    checks: Sequence[str] = CHECK_KINDS,
    seed: int = 0,
    qpm: float = DEFAULT_QPM,
    points: int = 7,
) -> tuple[Design, list[str]]:
    """Create the study folder ``study`` from the results folder ``source``; return its design and skipped files.

    :param per_model: melodies drawn (seeded, without replacement) from each model's melodies.
    :raises FileExistsError: ``study`` already holds a study.
    """
    out = Path(study)
    if (out / db.DB_NAME).exists():
        raise FileExistsError(17, "A study is already there; remove it or choose another folder", str(out))
    if per_model < 1:
        raise ValueError(f"melodies per model must be at least 1, got {per_model}")
    sources, skipped = find_sources(source, models)
    audio = out / AUDIO_DIR
    shutil.rmtree(audio, ignore_errors=True)  # an earlier build that stopped before its database
    audio.mkdir(parents=True)
    rng = np.random.default_rng([seed, 0])
    rows: list[tuple] = []
    chosen: dict[str, list[tuple[np.ndarray | None, Path | None]]] = {}

    def add(model: str, item: int, tokens: np.ndarray | None, wav: Path | None, origin: str) -> None:
        audio_id = secrets.token_urlsafe(16)
        dest = audio / f"{audio_id}.wav"
        if tokens is not None:
            write_wav(tokens, dest, qpm=qpm)
        else:
            _copy_wav(wav, dest)
        rows.append((audio_id, model, item, None if tokens is None else tokens.tolist(), origin))

    for model, src in sources.items():
        picks = rng.choice(len(src), size=min(per_model, len(src)), replace=False)
        chosen[model] = []
        for item, index in enumerate(picks):
            tokens = None if src.melodies is None else src.melodies[index]
            wav = None if src.melodies is not None else src.wavs[index]
            chosen[model].append((tokens, wav))
            add(model, item, tokens, wav, f"{model}:{int(index)}")
    names = list(sources)
    length = next((t.shape[0] for m in names for t, _ in chosen[m] if t is not None), 32)
    if "identical" in checks:
        for j in range(CHECK_POOL):
            model = names[j % len(names)]
            tokens, wav = chosen[model][int(rng.integers(len(chosen[model])))]
            add("check", 2 * j, tokens, wav, f"copy of a {model} melody")
            add("check", 2 * j + 1, tokens, wav, f"copy of a {model} melody")
    if "anchor" in checks:
        for j in range(CHECK_POOL):
            add("anchor", j, random_notes(length, rng), None, "random notes")
    design = Design(tuple(names), {m: len(chosen[m]) for m in names}, pairs, tuple(checks), seed)
    seconds = length * 60.0 / qpm / STEPS_PER_QUARTER
    if all(t is None for m in names for t, _ in chosen[m]):
        with wave.open(str(chosen[names[0]][0][1]), "rb") as w:
            seconds = w.getnframes() / w.getframerate()
    meta = {"qpm": qpm, "points": points, "source": str(Path(source)), "melody_seconds": seconds}
    building = f".{db.DB_NAME}.building"
    (out / building).unlink(missing_ok=True)
    con = db.connect(out, building)
    try:
        db.create(con, design, meta, rows)
    finally:
        con.close()
    (out / building).replace(out / db.DB_NAME)
    return design, skipped


__all__ = ["AUDIO_DIR", "PAPER_MODELS", "RESERVED", "Source", "build", "find_sources", "random_notes"]
