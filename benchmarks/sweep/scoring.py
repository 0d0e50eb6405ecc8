"""Score one model as Table 1 does, plus the KL of its policy to the prior along its own melodies.

Composing, log p(a|s), rMT and the Table 1 statistics are :mod:`benchmarks.evaluate`'s
(docs/spec.md §7); this module adds ``kl_to_prior``: the mean over every note of
KL[π(·|s_t) ‖ p(·|s_t)], the policy's divergence from the Note RNN at the states of the melodies
it composed (the training logger's ``policy/kl_to_prior`` is the same quantity during training).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from agents import KLPPO, RLTuner
from agents.networks import kl_and_entropy, policy_logits
from benchmarks.evaluate import Model, compose_and_score, summarise
from benchmarks.sweep.samples import write_samples
from melody_env.note_rnn import NoteRNN


def melody_seed(seed: int) -> int:
    """The seed of composing and scoring for training seed ``seed`` (as ``rl-tuner reproduce``: seed + 1)."""
    return seed + 1


@torch.no_grad()
def policy_kl_to_prior(model: Model, primers: np.ndarray, melodies: np.ndarray, batch: int = 1_000) -> np.ndarray:
    """KL[π(·|s_t) ‖ p(·|s_t)] at every note of ``melodies`` (n, T), in nats.

    s_t is the primer and the notes before t. π is the model's sampling policy (softmax of Q, Ψ or
    G + log p, docs/spec.md §7) and p the Reward RNN inside the model (the Note RNN, frozen). Both
    networks read the whole melody in one batched LSTM pass. The Note RNN's policy is p: 0 everywhere.

    :param model: an :class:`agents.RLTuner`, an :class:`agents.KLPPO` or the Note RNN.
    :param primers: (n,) first notes. :param melodies: (n, T) classes.
    :param batch: melodies per pass.
    """
    if isinstance(model, NoteRNN):
        return np.zeros(melodies.shape, dtype=np.float32)
    if not isinstance(model, (RLTuner, KLPPO)):
        raise TypeError(f"the KL to the prior needs an RLTuner, a KLPPO or the Note RNN, not {type(model).__name__}")
    out = np.empty(melodies.shape, dtype=np.float32)
    for start in range(0, len(melodies), batch):
        mel = torch.as_tensor(melodies[start : start + batch], dtype=torch.long)
        inputs = torch.cat([torch.as_tensor(primers[start : start + batch], dtype=torch.long)[:, None], mel[:, :-1]], 1)
        logits, log_prior = _policy_and_prior_logits(model, inputs)  # (B, T, 38) each
        kl, _ = kl_and_entropy(logits.reshape(-1, logits.shape[-1]), log_prior.reshape(-1, logits.shape[-1]))
        out[start : start + batch] = kl.reshape(mel.shape).numpy()
    return out


def _policy_and_prior_logits(model: Model, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's logits and log p(·|s) along ``inputs (B, T)``: an RLTuner's Q network and Reward RNN, or a
    KLPPO's actor and frozen prior."""
    if isinstance(model, KLPPO):
        return model.policy.actor(inputs)[0], torch.log_softmax(model.policy.prior(inputs)[0], -1)
    networks = model.networks
    log_prior = torch.log_softmax(networks.reward_rnn(inputs)[0], -1)
    return policy_logits(model.algorithm, networks.q_net(inputs)[0], log_prior), log_prior


def score_model(model: Model, reward_rnn: NoteRNN, n: int, seed: int, samples: Path | None = None) -> dict[str, float]:
    """Compose ``n`` melodies with ``model`` (seed :func:`melody_seed`) and return their statistics.

    :param samples: where to write the most frequent melodies (:func:`benchmarks.sweep.samples.write_samples`).
    :return: :func:`benchmarks.evaluate.summarise` (Table 1, mean log p, mean rMT, extras) plus
        ``kl_to_prior`` (mean per note, nats).
    """
    scored = compose_and_score(model, reward_rnn, n, seed=melody_seed(seed))
    if samples is not None:
        write_samples(samples, scored.melodies)
    stats = summarise(scored)
    stats["kl_to_prior"] = float(policy_kl_to_prior(model, scored.primers, scored.melodies).mean())
    return stats


__all__ = ["melody_seed", "policy_kl_to_prior", "score_model"]
