"""Acting and composing with a tuned network: SB3-style ``predict``, batched melodies, Figure 4's curves.

Every function takes the :class:`~agents.policies.TunerNetworks` and the algorithm name and reads the
policy through :func:`~agents.policies.policy_logits`: softmax(Q) for Q and RL-only, softmax(Ψ) for Ψ,
softmax(G + log p) for G (SPEC §7), or their argmax when greedy.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from agents.policies import TunerNetworks, policy_logits
from melody_env.sampling import sample_logits
from reward_rules.tokens import FIRST_PITCH_CLASS, validate_melody

State = tuple[np.ndarray, np.ndarray]


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
    :param deterministic: argmax of the policy logits, else a sample of their softmax (SPEC §7).
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


def _primer(n: int, primer: np.ndarray | Tensor | None, num_classes: int, generator: torch.Generator) -> Tensor:
    if primer is None:  # one random note onset per melody, as the env primes (SPEC §6)
        return torch.randint(FIRST_PITCH_CLASS, num_classes, (n,), generator=generator)
    primer = torch.as_tensor(validate_melody(np.asarray(primer).reshape(-1), name="primer"))
    if primer.shape[0] != n:
        raise ValueError(f"primer must hold one note per melody ({n}), got {primer.shape[0]}")
    return primer


@torch.no_grad()
def compose(
    networks: TunerNetworks,
    algorithm: str,
    n: int,
    length: int,
    temperature: float | str = 1.0,
    generator: torch.Generator | None = None,
    primer: np.ndarray | Tensor | None = None,
) -> np.ndarray:
    """Compose ``n`` melodies at once from the tuned policy (SPEC §7).

    :param n: number of melodies. :param length: notes per melody (32).
    :param temperature: softmax temperature; ``0`` or ``"greedy"`` takes the argmax.
    :param generator: torch generator for the primers and the draws.
    :param primer: ``(n,)`` first notes fed before composing (not in the output); ``None``: random onsets.
    :return: ``(n, length)`` int64 classes.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    prev = _primer(n, primer, networks.config.num_classes, generator)
    q_state = prior_state = None
    out = torch.empty(n, length, dtype=torch.long)
    for t in range(length):
        logits, q_state, prior_state = _step(networks, algorithm, prev, q_state, prior_state)
        prev = out[:, t] = draw(logits, temperature, generator)
    return out.numpy()


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
        logits, q_state, prior_state = _step(networks, algorithm, note.reshape(1), q_state, prior_state)
        rows.append(torch.softmax(logits[0], dim=-1))
    return torch.stack(rows).numpy()


def _step(networks: TunerNetworks, algorithm: str, prev: Tensor, q_state: tuple | None, prior_state: tuple | None):
    """Policy logits after feeding ``prev`` to the Q network (and, for G, to the Reward RNN)."""
    values, q_state = networks.values(prev, q_state)
    log_prior = None
    if algorithm == "g":
        prior_logits, prior_state = networks.reward_rnn.step(prev, prior_state)
        log_prior = torch.log_softmax(prior_logits, dim=-1)
    return policy_logits(algorithm, values, log_prior), q_state, prior_state


__all__ = ["compose", "draw", "next_note_probabilities", "predict_actions"]
