"""Acting and composing with a tuned network: SB3-style ``predict``, batched melodies, Figure 4's curves.

Every function takes the :class:`~agents.policies.TunerNetworks` and the algorithm name and reads the
policy through :func:`~agents.policies.policy_logits`: softmax(Q) for Q and RL-only, softmax(Ψ) for Ψ,
softmax(G + log p) for G (docs/spec.md §7), or their argmax when greedy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from agents.policies import TunerNetworks, policy_logits
from reward_rules.tokens import FIRST_PITCH_CLASS, validate_melody
from sequence_env.sampling import sample_logits

State = tuple[np.ndarray, np.ndarray]
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
    networks: TunerNetworks,
    algorithm: str,
    observation: dict[str, np.ndarray],
    state: State | None,
    episode_start: np.ndarray | None,
    deterministic: bool,
    generator: torch.Generator,
) -> tuple[np.ndarray, State]:
    """SB3-RecurrentPPO-style step: ``state`` is the Q network's LSTM state before ``observation["note"]``.

    :param observation: the env's observation dict, one env (``"note"`` a scalar) or N (``(N,)``).
    :param state: ``(h, c)`` each ``(N, H)`` returned by the previous call, or ``None`` (zeros).
    :param episode_start: ``(N,)`` True where a melody starts (its state is reset to zeros).
    :param deterministic: argmax of the policy logits, else a sample of their softmax (docs/spec.md §7).
    :return: ``(actions, next state)``; actions ``(N,)`` int64, or a 0-d array for a single env.
    """
    if not isinstance(observation, dict) or "note" not in observation or "h" not in observation:
        raise TypeError("observation must be the MelodyCompose dict with keys 'note' and 'h' (and 'c', 'position')")
    raw = np.asarray(observation["note"])
    notes = torch.as_tensor(raw.reshape(-1), dtype=torch.long)
    n = notes.shape[0]
    hidden = networks.config.hidden_size
    if state is None:
        h = torch.zeros(n, hidden)
        c = torch.zeros(n, hidden)
    else:
        h = torch.as_tensor(np.asarray(state[0], dtype=np.float32)).reshape(n, hidden).clone()
        c = torch.as_tensor(np.asarray(state[1], dtype=np.float32)).reshape(n, hidden).clone()
    if episode_start is not None:
        start = torch.as_tensor(np.asarray(episode_start, dtype=bool).reshape(-1))
        h[start] = 0.0
        c[start] = 0.0
    values, (h, c) = networks.values(notes, (h, c))
    log_prior = networks.log_prior(torch.as_tensor(np.asarray(observation["h"], dtype=np.float32)).reshape(n, hidden))
    logits = policy_logits(algorithm, values, log_prior)
    actions = draw(logits, "greedy" if deterministic else 1.0, generator).numpy()
    if raw.ndim == 0:
        actions = actions.reshape(())
    return actions, (h.numpy(), c.numpy())


def primer_batch(n: int, primer: Primer, num_classes: int, generator: torch.Generator | None) -> Tensor:
    """The ``(n, P)`` notes fed before composing ``n`` melodies.

    :param primer: ``None`` (one random note onset per melody, classes 2..37, as the env primes,
        docs/spec.md §6), a note class, a 1-D sequence of classes (every melody primed with it) or a 2-D
        ``(n, P)`` array (row i primes melody i). A file is read by :func:`compose`.
    """
    if primer is None:
        return torch.randint(FIRST_PITCH_CLASS, num_classes, (n, 1), generator=generator)
    tokens = torch.as_tensor(validate_melody(np.asarray(primer), name="primer"))
    if tokens.ndim == 0:
        tokens = tokens.reshape(1)
    if tokens.ndim == 1:
        tokens = tokens.unsqueeze(0).expand(n, -1)
    if tokens.ndim != 2 or tokens.shape[0] != n or tokens.shape[1] < 1:
        raise ValueError(
            f"primer must be a note, a sequence of notes for every melody, or (n={n}, P) rows, "
            f"got shape {tuple(np.shape(primer))}"
        )
    return tokens


@torch.no_grad()
def compose(
    networks: TunerNetworks,
    algorithm: str,
    n: int,
    length: int,
    temperature: float | str = 1.0,
    generator: torch.Generator | None = None,
    primer: Primer = None,
) -> np.ndarray:
    """Compose ``n`` melodies at once from the tuned policy (docs/spec.md §7).

    The primer's notes are fed first, in order, to the Q network (and, for G, to the Reward RNN,
    whose log p(a|s) is part of the policy); they are not in the output. A MIDI/ABC file is read
    with :func:`melody_env.encoding.read_primer`: transposed to C major / A minor (the key the tuners
    were trained in) to prime, and the melodies are transposed back, so they continue in the file's key.

    :param n: number of melodies. :param length: notes per melody (32).
    :param temperature: softmax temperature; ``0`` or ``"greedy"`` takes the argmax.
    :param generator: torch generator for the primers and the draws.
    :param primer: a MIDI/ABC file, a note, a sequence of notes for every melody, ``(n, P)`` rows,
        or ``None`` for one random note onset per melody (see :func:`primer_batch`).
    :return: ``(n, length)`` int64 classes.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")
    shift = 0
    if isinstance(primer, (str, os.PathLike)):
        from melody_env.encoding import read_primer  # music21: imported only when a file is read

        read = read_primer(primer)
        primer, shift = read.tokens, read.shift
    primers = primer_batch(n, primer, networks.config.num_classes, generator)
    out = compose_from(networks, algorithm, primers, length, temperature, generator)[0].numpy()
    if shift:
        from melody_env.encoding import transpose_melody

        return transpose_melody(out, shift)
    return out


@torch.no_grad()
def compose_from(
    networks: TunerNetworks,
    algorithm: str,
    primers: Tensor,
    length: int,
    temperature: float | str = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor | None]:
    """The composing loop of :func:`compose`, from ``primers (n, P)``: the same melodies for the same draws.

    :return: ``(melodies (n, length) int64, log_prior)``: for G, whose policy steps the Reward RNN,
        ``log_prior (n, length)`` holds log p(a_t|s_t) of each drawn note under it (Eq. 3, the
        number Table 1 averages, docs/spec.md §7); ``None`` for the other algorithms.
    """
    q_state = prior_state = None
    for t in range(primers.shape[1] - 1):
        _, _, q_state, prior_state = _step(networks, algorithm, primers[:, t], q_state, prior_state)
    prev = primers[:, -1]
    n = primers.shape[0]
    out = torch.empty(n, length, dtype=torch.long)
    drawn_log_prior = torch.empty(n, length) if algorithm == "g" else None
    for t in range(length):
        logits, log_prior, q_state, prior_state = _step(networks, algorithm, prev, q_state, prior_state)
        prev = out[:, t] = draw(logits, temperature, generator)
        if drawn_log_prior is not None:
            drawn_log_prior[:, t] = log_prior.gather(1, prev[:, None])[:, 0]
    return out, drawn_log_prior


@torch.no_grad()
def next_note_probabilities(networks: TunerNetworks, algorithm: str, melody: np.ndarray, primer: int) -> np.ndarray:
    """π(·|s_t) along ``melody``: row t is the policy's distribution of note t given the primer and notes < t.

    :param melody: ``(T,)`` classes (e.g. a row of :func:`compose`). :param primer: the note fed first.
    :return: ``(T, 38)`` probabilities (paper Figure 4).
    """
    melody = torch.as_tensor(validate_melody(melody))
    inputs = torch.cat([torch.as_tensor(validate_melody([primer], name="primer")), melody[:-1]])
    q_state = prior_state = None
    rows = []
    for note in inputs:
        logits, _, q_state, prior_state = _step(networks, algorithm, note.reshape(1), q_state, prior_state)
        rows.append(torch.softmax(logits[0], dim=-1))
    return torch.stack(rows).numpy()


def _step(networks: TunerNetworks, algorithm: str, prev: Tensor, q_state: tuple | None, prior_state: tuple | None):
    """Policy logits after feeding ``prev`` to the Q network (and, for G, to the Reward RNN), and the
    log p(·|s) it used (G; ``None`` otherwise)."""
    values, q_state = networks.values(prev, q_state)
    log_prior = None
    if algorithm == "g":
        prior_logits, prior_state = networks.reward_rnn.step(prev, prior_state)
        log_prior = torch.log_softmax(prior_logits, dim=-1)
    return policy_logits(algorithm, values, log_prior), log_prior, q_state, prior_state


__all__ = ["Primer", "compose", "compose_from", "draw", "next_note_probabilities", "predict_actions", "primer_batch"]
