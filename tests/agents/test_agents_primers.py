"""Tuners compose after a primer: a MIDI/ABC file, a sequence of notes for every melody, or one row each."""

import numpy as np
import pytest
import torch

from agents import RLTuner
from melody_env.encoding import notes_to_melody, read_primer, transpose_melody, write_midi


def greedy_by_hand(agent: RLTuner, primer: list[int], length: int) -> list[int]:
    """Feed the primer to the Q network (and the Reward RNN, for G's log p), then follow the policy's argmax."""
    q_state = prior_state = None
    feed, melody = list(primer), []
    with torch.no_grad():
        while len(melody) < length:
            note = torch.tensor([feed.pop(0) if feed else melody[-1]])
            q_logits, q_state = agent.networks.q_net.step(note, q_state)
            prior_logits, prior_state = agent.networks.reward_rnn.step(note, prior_state)
            if feed:
                continue  # still priming
            logits = q_logits + torch.log_softmax(prior_logits, -1) if agent.algorithm == "g" else q_logits
            melody.append(int(logits.argmax()))
    return melody


@pytest.fixture(params=["q", "g"])
def trained(request, make_env, note_rnn):
    """A tiny tuner trained a little, so its Q network is no longer the Note RNN."""
    agent = RLTuner(request.param, make_env(request.param, num_envs=4), prior=note_rnn, seed=0, n_envs=4)
    return agent.learn(400)


@pytest.mark.parametrize("primer", [[21, 1, 16], [14], [30, 0, 1, 1, 9]])
def test_a_sequence_primes_every_melody_through_the_q_network_and_the_reward_rnn(trained, primer):
    melodies = trained.generate(3, temperature=0, primer=primer, length=6)
    assert melodies.shape == (3, 6)
    assert melodies.tolist() == [greedy_by_hand(trained, primer, 6)] * 3


def test_rows_prime_their_own_melody(trained):
    rows = trained.generate(2, temperature="greedy", primer=np.array([[14, 1], [21, 0]]))
    assert rows.shape == (2, trained.max_length)
    assert rows.tolist() == [greedy_by_hand(trained, p, trained.max_length) for p in ([14, 1], [21, 0])]
    with pytest.raises(ValueError, match=r"primer must be a token, a sequence .* or \(n=3, P\) rows"):
        trained.generate(3, primer=np.ones((2, 4), dtype=np.int64))


def test_a_primer_file_continues_in_its_key(trained, tmp_path):
    d_major = notes_to_melody([62, 64, 66, 67, 69, 71, 73, 74], range(0, 32, 4), range(4, 36, 4))
    path = write_midi(d_major, tmp_path / "d.mid")
    melodies = trained.generate(4, seed=3, primer=path)
    in_c = trained.generate(4, seed=3, primer=read_primer(path).tokens)  # what the model composed, in C
    np.testing.assert_array_equal(melodies, transpose_melody(in_c, 2))
    with pytest.raises(ValueError, match="not a file"):
        trained.generate(1, primer=tmp_path / "missing.mid")
