"""Checkpoints as safetensors + JSON, written atomically, read without unpickling.

A checkpoint named ``run/model`` is two files: ``run/model.safetensors`` (the tensors) and
``run/model.json``::

    {"kind": "note_rnn", "format_version": 1, "config": {...}, "metadata": {...},
     "tensors_file": "model.safetensors", "tensors_sha256": "..."}

The JSON names the kind of object (so a Q-network checkpoint is not loaded as a Note RNN), the
format version, the constructor config and the SHA-256 of the tensors file (so a tensors file
that does not belong to its JSON, or was damaged, is refused). Every failure to read raises
:class:`CheckpointError`, a ``ValueError`` naming the file and what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from sequence_env.atomic import atomic_write

_SUFFIXES = (".safetensors", ".json")


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, of another kind or version, or does not fit the model."""


class Checkpoint(NamedTuple):
    """What :func:`load_checkpoint` returns."""

    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    metadata: dict[str, Any]


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """The ``(tensors, json)`` file pair of a checkpoint.

    :param path: ``run/model``, ``run/model.safetensors`` or ``run/model.json`` (all the same).
    """
    path = Path(path)
    base = path.with_suffix("") if path.suffix in _SUFFIXES else path
    return base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(
    path: str | os.PathLike,
    tensors: dict[str, torch.Tensor],
    config: dict[str, Any],
    kind: str,
    format_version: int,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``tensors`` and ``config`` as a checkpoint, each file atomically (temp file + ``os.replace``).

    The tensors file is replaced first and the JSON last, so an interrupted save leaves either the
    old pair or a tensors file whose hash the old JSON refuses, never a silently mixed pair.

    :param path: checkpoint name (see :func:`checkpoint_paths`); parent folders are created.
    :param tensors: name → tensor (copied to contiguous CPU memory).
    :param config: JSON-serialisable constructor arguments.
    :param kind: what the tensors are, e.g. ``"note_rnn"``; checked by :func:`load_checkpoint`.
    :param format_version: layout version of this kind, checked on load.
    :param metadata: optional JSON-serialisable extra facts (training summary, ...).
    :return: the path of the JSON file.
    """
    tensor_path, json_path = checkpoint_paths(path)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    cpu = {name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()}
    with atomic_write(tensor_path) as tmp:
        save_file(cpu, str(tmp))
    header = {
        "kind": kind,
        "format_version": int(format_version),
        "config": config,
        "metadata": metadata or {},
        "tensors_file": tensor_path.name,
        "tensors_sha256": _sha256(tensor_path),
    }
    text = json.dumps(header, indent=2, sort_keys=True) + "\n"
    with atomic_write(json_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return json_path


def load_checkpoint(path: str | os.PathLike, kind: str, format_version: int = 1) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; never unpickles.

    :param path: checkpoint name (see :func:`checkpoint_paths`).
    :param kind: the expected kind; another kind is refused.
    :param format_version: the version this code reads; another version is refused.
    :raises CheckpointError: missing file, unreadable JSON or tensors, hash mismatch, wrong kind or version.
    """
    tensor_path, json_path = checkpoint_paths(path)
    for file in (json_path, tensor_path):
        if not file.is_file():
            raise CheckpointError(
                f"checkpoint file {file} does not exist; a checkpoint is the pair {json_path.name} + "
                f"{tensor_path.name} written by save(); check the path or train/save the model first"
            )
    try:
        header = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{json_path} is not valid JSON ({exc}); the file is damaged, save again") from exc
    missing = {"kind", "format_version", "config", "tensors_sha256"} - set(header if isinstance(header, dict) else ())
    if missing:
        raise CheckpointError(f"{json_path} lacks {sorted(missing)}; it is not a checkpoint written by save_checkpoint")
    if header["kind"] != kind:
        raise CheckpointError(f"{json_path} holds a {header['kind']!r} checkpoint, expected {kind!r}; pass another")
    if header["format_version"] != format_version:
        raise CheckpointError(
            f"{json_path} has format_version {header['format_version']!r}, this code reads version {format_version}; "
            f"re-create the checkpoint with this version of rl-tuner"
        )
    if _sha256(tensor_path) != header["tensors_sha256"]:
        raise CheckpointError(
            f"{tensor_path} does not match the SHA-256 recorded in {json_path.name}; the tensors file is damaged or "
            f"belongs to another checkpoint; save the model again"
        )
    try:
        tensors = load_file(str(tensor_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{tensor_path} is not a readable safetensors file ({exc}); save again") from exc
    return Checkpoint(tensors, dict(header["config"]), dict(header.get("metadata") or {}))


def load_state_dict_strict(module: nn.Module, tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Copy ``tensors`` into ``module``, refusing missing, unexpected or wrongly shaped tensors.

    :param module: the model, built from the checkpoint's config.
    :param tensors: the checkpoint's tensors.
    :param path: the checkpoint, named in error messages.
    :raises CheckpointError: when the tensors do not fit the module exactly.
    """
    expected = module.state_dict()
    problems = [f"missing {name}" for name in expected if name not in tensors]
    problems += [f"unexpected {name}" for name in tensors if name not in expected]
    problems += [
        f"{name} is {tuple(tensors[name].shape)} {tensors[name].dtype}, the model needs {tuple(t.shape)} {t.dtype}"
        for name, t in expected.items()
        if name in tensors and (tensors[name].shape != t.shape or tensors[name].dtype != t.dtype)
    ]
    if problems:
        raise CheckpointError(
            f"checkpoint {checkpoint_paths(path)[0]} does not fit its config: {'; '.join(problems)}; "
            f"the tensors were changed after saving, save the model again"
        )
    module.load_state_dict(tensors, strict=True)


__all__ = [
    "Checkpoint",
    "CheckpointError",
    "checkpoint_paths",
    "load_checkpoint",
    "load_state_dict_strict",
    "save_checkpoint",
]
