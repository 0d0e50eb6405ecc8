"""Acting and composing with a tuned network: SB3-style ``predict``, batched sequences, Figure 4's curves.

Every function takes the :class:`~agents.networks.TunerNetworks` (or KLPPO's actor-critic, which has the
same ``values``/``reward_rnn``) and the algorithm name and reads the policy through
:func:`~agents.networks.policy_logits`: softmax(Q) for Q and RL-only, softmax(Ψ) for Ψ, softmax(G + log p)
for G (docs/spec.md §7), or their argmax when greedy. Primers, file primers and the end token come from
the task (:class:`sequence_env.task.SequenceTask`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.networks import policy_logits
from sequence_env.sampling import sample_logits
from sequence_env.task import SequenceTask

State = tuple[np.ndarray, ...]
Primer = str | os.PathLike | int | Sequence[int] | np.ndarray | Tensor | None


def draw(logits: Tensor, temperature: float | str, generator: torch.Generator | None) -> Tensor:
    """One action per row of ``logits (B, A)``: argmax when ``temperature`` is 0 or ``"greedy"``, else a
    sample of ``softmax(logits / temperature)``."""
    if temperature == "greedy":
        temperature = 0
    if isinstance(temperature, str) or not temperature >= 0:
        raise ValueError(f"temperature must be > 0, or 0 / 'greedy' for the argmax, got {temperature!r}")
    return sample_logits(logits, temperature, generator)


@torch.no_grad()
def predict_actions(
    networks: Any,
    algorithm: str,
    task: SequenceTask,
    observation: dict[str, np.ndarray],
    state: State | None,
    episode_start: np.ndarray | None,
    deterministic: bool,
    generator: torch.Generator,
) -> tuple[np.ndarray, State]:
    """SB3-RecurrentPPO-style step: ``state`` is the network's recurrent state before the observed token.

    :param observation: the env's observation dict, one env (the token a scalar) or N (``(N,)``).
    :param state: the state parts, each ``(N, size)``, returned by the previous call, or ``None`` (initial).
    :param episode_start: ``(N,)`` True where an episode starts (its state is reset to the initial state).
    :param deterministic: argmax of the policy logits, else a sample of their softmax (docs/spec.md §7).
    :return: ``(actions, next state)``; actions ``(N,)`` int64, or a 0-d array for a single env.
    """
    prior_names = networks.reward_rnn.state_names
    if not isinstance(observation, dict) or not {task.token_key, *prior_names} <= set(observation):
        raise TypeError(
            f"observation must be the env's dict with keys {task.token_key!r} and {', '.join(map(repr, prior_names))}"
        )
    raw = np.asarray(observation[task.token_key])
    tokens = torch.as_tensor(raw.reshape(-1), dtype=torch.long)
    n = tokens.shape[0]
    initial = networks.initial_state(n)
    if state is None:
        parts = [part.clone() for part in initial]
    else:
        parts = [torch.as_tensor(np.asarray(part, dtype=np.float32)).reshape(n, -1).clone() for part in state]
    if episode_start is not None:
        start = torch.as_tensor(np.asarray(episode_start, dtype=bool).reshape(-1))
        for part, zero in zip(parts, initial, strict=True):
            part[start] = zero[start]
    values, new_state = networks.values(tokens, tuple(parts))
    prior_state = tuple(
        torch.as_tensor(np.asarray(observation[name], dtype=np.float32)).reshape(n, -1) for name in prior_names
    )
    logits = policy_logits(algorithm, values, networks.log_prior(prior_state))
    actions = draw(logits, "greedy" if deterministic else 1.0, generator).numpy()
    if raw.ndim == 0:
        actions = actions.reshape(())
    return actions, tuple(part.numpy() for part in new_state)


def primer_batch(n: int, primer: Primer, task: SequenceTask, generator: torch.Generator | None) -> Tensor:
    """The ``(n, P)`` tokens fed before composing ``n`` sequences.

    :param primer: ``None`` (the task's primers, e.g. one random note onset per melody, docs/spec.md §6), a
        token, a 1-D sequence of tokens (every sequence primed with it) or a 2-D ``(n, P)`` array (row i
        primes sequence i). A file is read by :func:`compose`.
    """
    if primer is None:
        return task.sample_primers(n, generator)
    tokens = torch.as_tensor(task.vocabulary.validate(np.asarray(primer), name="primer"))
    if tokens.ndim == 0:
        tokens = tokens.reshape(1)
    if tokens.ndim == 1:
        tokens = tokens.unsqueeze(0).expand(n, -1)
    if tokens.ndim != 2 or tokens.shape[0] != n or tokens.shape[1] < 1:
        raise ValueError(
            f"primer must be a token, a sequence of tokens for every sequence, or (n={n}, P) rows, "
            f"got shape {tuple(np.shape(primer))}"
        )
    return tokens


@torch.no_grad()
def compose(
    networks: Any,
    algorithm: str,
    task: SequenceTask,
    n: int,
    length: int,
    temperature: float | str = 1.0,
    generator: torch.Generator | None = None,
    primer: Primer = None,
) -> np.ndarray:
    """Compose ``n`` sequences at once from the tuned policy (docs/spec.md §7).

    The primer's tokens are fed first, in order, to the Q network (and, for G, to the Reward RNN,
    whose log p(a|s) is part of the policy); they are not in the output. A file is read by the task's
    ``read_primer`` (melodies: transposed to C major / A minor, the key the tuners were trained in, to
    prime, and the melodies transposed back, so they continue in the file's key).

    :param n: number of sequences. :param length: tokens per sequence (melodies: 32).
    :param temperature: softmax temperature; ``0`` or ``"greedy"`` takes the argmax.
    :param generator: torch generator for the primers and the draws.
    :param primer: a file, a token, a sequence of tokens for every sequence, ``(n, P)`` rows, or ``None`` for
        the task's primers (see :func:`primer_batch`).
    :return: ``(n, length)`` int64 tokens; after a task's end token, the row holds end (or pad) tokens.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    restore = None
    if isinstance(primer, (str, os.PathLike)):
        if task.read_primer is None:
            raise ValueError(f"task {task.name!r} reads no primer files; pass the primer as token ids")
        read = task.read_primer(primer)
        primer, restore = read.tokens, read.restore
    primers = primer_batch(n, primer, task, generator)
    out = compose_from(networks, algorithm, primers, length, temperature, generator, task.end_token)[0].numpy()
    return restore(out) if restore is not None else out


@torch.no_grad()
def compose_from(
    networks: Any,
    algorithm: str,
    primers: Tensor,
    length: int,
    temperature: float | str = 1.0,
    generator: torch.Generator | None = None,
    end_token: int | None = None,
) -> tuple[Tensor, Tensor | None]:
    """The composing loop of :func:`compose`, from ``primers (n, P)``: the same sequences for the same draws.

    :param end_token: the task's end token: once a row draws it, the rest of the row repeats it (and stops
        when every row has ended).
    :return: ``(sequences (n, length) int64, log_prior)``: for G, whose policy steps the Reward RNN,
        ``log_prior (n, length)`` holds log p(a_t|s_t) of each drawn token under it (Eq. 3, the
        number Table 1 averages, docs/spec.md §7); ``None`` for the other algorithms.
    """
    q_state = prior_state = None
    for t in range(primers.shape[1] - 1):
        _, _, q_state, prior_state = _step(networks, algorithm, primers[:, t], q_state, prior_state)
    prev = primers[:, -1]
    n = primers.shape[0]
    out = torch.empty(n, length, dtype=torch.long)
    drawn_log_prior = torch.empty(n, length) if algorithm == "g" else None
    ended = torch.zeros(n, dtype=torch.bool) if end_token is not None else None
    for t in range(length):
        logits, log_prior, q_state, prior_state = _step(networks, algorithm, prev, q_state, prior_state)
        prev = out[:, t] = draw(logits, temperature, generator)
        if drawn_log_prior is not None:
            drawn_log_prior[:, t] = log_prior.gather(1, prev[:, None])[:, 0]
        if ended is not None:
            out[ended, t] = end_token
            ended |= out[:, t] == end_token
            if bool(ended.all()):
                out[:, t + 1 :] = end_token
                if drawn_log_prior is not None:
                    drawn_log_prior[:, t + 1 :] = 0.0
                break
    return out, drawn_log_prior


@torch.no_grad()
def next_token_probabilities(
    networks: Any, algorithm: str, task: SequenceTask, sequence: np.ndarray, primer: int
) -> np.ndarray:
    """π(·|s_t) along ``sequence``: row t is the policy's distribution of token t given the primer and tokens < t.

    :param sequence: ``(T,)`` tokens (e.g. a row of :func:`compose`). :param primer: the token fed first.
    :return: ``(T, V)`` probabilities (paper Figure 4).
    """
    vocabulary = task.vocabulary
    sequence = torch.as_tensor(vocabulary.validate(sequence, name="sequence"))
    inputs = torch.cat([torch.as_tensor(vocabulary.validate([primer], name="primer")), sequence[:-1]])
    q_state = prior_state = None
    rows = []
    for token in inputs:
        logits, _, q_state, prior_state = _step(networks, algorithm, token.reshape(1), q_state, prior_state)
        rows.append(torch.softmax(logits[0], dim=-1))
    return torch.stack(rows).numpy()


def _step(networks: Any, algorithm: str, prev: Tensor, q_state: tuple | None, prior_state: tuple | None):
    """Policy logits after feeding ``prev`` to the Q network (and, for G, to the Reward RNN), and the
    log p(·|s) it used (G; ``None`` otherwise)."""
    values, q_state = networks.values(prev, q_state)
    log_prior = None
    if algorithm == "g":
        prior_logits, prior_state = networks.reward_rnn.step(prev, prior_state)
        log_prior = torch.log_softmax(prior_logits, dim=-1)
    return policy_logits(algorithm, values, log_prior), log_prior, q_state, prior_state


__all__ = [
    "Primer",
    "compose",
    "compose_from",
    "draw",
    "next_token_probabilities",
    "predict_actions",
    "primer_batch",
]
