"""Compose and score melodies the way Table 1 and Figure 2 do (docs/spec.md §7).

Every model composes from one random note onset (the primer, not part of the melody) and samples
each note from its policy at temperature 1: p for the Note RNN, softmax(Q), softmax(Ψ), or
softmax(G + log p). The melodies are then scored with the Reward RNN (log p(a|s), the data
likelihood the tuners should keep) and the rules (rMT per note), all batched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents import RLTuner
from melody_env.note_rnn import NoteRNN
from reward_rules import C_MAJOR, DEFAULT_RULES, Key, RuleEvaluator, RuleSet, extra_stats, table1_stats
from reward_rules.tokens import FIRST_PITCH_CLASS, NUM_CLASSES

Model = RLTuner | NoteRNN


@dataclass(frozen=True)
class Scored:
    """Melodies with their per-note scores, all (n, T)."""

    primers: np.ndarray
    melodies: np.ndarray
    log_prior: np.ndarray
    music_theory: np.ndarray


def compose(model: Model, n: int, length: int = 32, seed: int = 0, batch: int = 1_000) -> tuple[np.ndarray, ...]:
    """Compose ``n`` melodies from random primers, ``batch`` at a time (docs/spec.md §7).

    :return: ``(primers (n,), melodies (n, length))``.
    """
    generator = torch.Generator().manual_seed(seed)
    primers = torch.randint(FIRST_PITCH_CLASS, NUM_CLASSES, (n,), generator=generator)
    parts = []
    for start in range(0, n, batch):
        p = primers[start : start + batch]
        if isinstance(model, NoteRNN):
            parts.append(model.sample(len(p), length, primer=p, generator=generator).numpy())
        else:
            parts.append(model.generate(len(p), temperature=1.0, seed=seed + 1 + start, primer=p.numpy()[:, None]))
    return primers.numpy(), np.concatenate(parts)


@torch.no_grad()
def log_prior(reward_rnn: NoteRNN, primers: np.ndarray, melodies: np.ndarray, batch: int = 1_000) -> np.ndarray:
    """log p(a_t | s_t) of every note under the Reward RNN, given the primer and the notes before (Eq. 3)."""
    out = np.empty(melodies.shape, dtype=np.float32)
    for start in range(0, len(melodies), batch):
        mel = torch.as_tensor(melodies[start : start + batch], dtype=torch.long)
        inputs = torch.cat([torch.as_tensor(primers[start : start + batch], dtype=torch.long)[:, None], mel[:, :-1]], 1)
        logits, _ = reward_rnn(inputs)  # (B, T, 38)
        out[start : start + batch] = torch.log_softmax(logits, -1).gather(2, mel[..., None])[..., 0].numpy()
    return out


def music_theory(melodies: np.ndarray, key: Key = C_MAJOR, rules: RuleSet = DEFAULT_RULES) -> np.ndarray:
    """rMT of every note when the melodies are composed note by note (docs/spec.md §4), all rows at once."""
    n, length = melodies.shape
    evaluator = RuleEvaluator(n, length=length, key=key, rules=rules)
    return np.stack([evaluator.step(melodies[:, t]).sum(1) for t in range(length)], axis=1)


def compose_and_score(
    model: Model, reward_rnn: NoteRNN, n: int, length: int = 32, seed: int = 0, key: Key = C_MAJOR
) -> Scored:
    """Compose ``n`` melodies with ``model`` and score them (see the module docs)."""
    primers, melodies = compose(model, n, length, seed)
    return Scored(primers, melodies, log_prior(reward_rnn, primers, melodies), music_theory(melodies, key))


def summarise(scored: Scored, key: Key = C_MAJOR) -> dict[str, float]:
    """Table 1 statistics plus mean log p(a|s), mean rMT per note and the extra statistics."""
    stats = table1_stats(scored.melodies, key=key)
    stats["mean_log_prior"] = float(scored.log_prior.mean())
    stats["mean_music_theory_reward"] = float(scored.music_theory.mean())
    stats.update(extra_stats(scored.melodies))
    return stats


__all__ = ["Model", "Scored", "compose", "compose_and_score", "log_prior", "music_theory", "summarise"]
