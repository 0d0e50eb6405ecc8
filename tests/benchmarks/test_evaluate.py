"""Table 1's composing and scoring (benchmarks.evaluate): log p recorded while composing equals the Reward
RNN's own pass, the melodies are those of ``NoteRNN.sample`` / ``RLTuner.generate``, and the worker
processes change nothing (in a child Python with a timeout, so a hang fails)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import benchmarks.evaluate as evaluate
from agents import RLTuner
from benchmarks.evaluate import (
    Scored,
    compose,
    compose_and_score,
    compose_chunk,
    log_prior,
    summarise,
    worker_count,
)
from melody_env.note_rnn import NoteRNN, load_default_note_rnn
from reward_rules import Key, score_melodies


@pytest.fixture(scope="module")
def reward_rnn() -> NoteRNN:
    return load_default_note_rnn()


def lstm_log_prior(rnn: NoteRNN, primers: np.ndarray, melodies: np.ndarray) -> np.ndarray:
    """log p(a_t|s_t) through ``nn.LSTM`` (``rnn.forward``)."""
    notes = torch.as_tensor(melodies)
    inputs = torch.cat([torch.as_tensor(primers)[:, None], notes[:, :-1]], 1)
    with torch.no_grad():
        logits, _ = rnn(inputs)
    return torch.log_softmax(logits, -1).gather(2, notes[..., None])[..., 0].numpy()


def test_log_prior_matches_the_lstm_forward_pass(reward_rnn) -> None:
    rng = np.random.default_rng(0)
    primers, melodies = rng.integers(2, 38, 700), rng.integers(0, 38, (700, 32))
    expected = lstm_log_prior(reward_rnn, primers, melodies)
    for batch in (512, 300, 1000):  # blocks that do and do not divide the melodies
        np.testing.assert_allclose(log_prior(reward_rnn, primers, melodies, batch), expected, atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("composer", ["note_rnn", "g"])
def test_log_prior_recorded_while_composing_equals_the_separate_pass(reward_rnn, composer) -> None:
    model = reward_rnn if composer == "note_rnn" else RLTuner("g", "MelodyCompose-v0", n_envs=1)
    scored = compose_and_score(model, reward_rnn, 300, seed=2, batch=100)
    assert compose_chunk(model, scored.primers[:100], 32, 3, reward_rnn)[1] is not None  # recorded, not rescored
    separate = log_prior(reward_rnn, scored.primers, scored.melodies)
    np.testing.assert_allclose(scored.log_prior, separate, atol=1e-5, rtol=1e-6)
    expected = lstm_log_prior(reward_rnn, scored.primers, scored.melodies)
    np.testing.assert_allclose(scored.log_prior, expected, atol=1e-5, rtol=1e-6)


def test_other_weights_are_scored_by_the_reward_rnn(reward_rnn) -> None:
    torch.manual_seed(0)
    other = NoteRNN().eval()  # composes, but is not the Reward RNN: its own log p must not be recorded
    assert compose_chunk(other, np.array([5, 20]), 32, 1, reward_rnn)[1] is None
    assert compose_chunk(RLTuner("q", "MelodyCompose-v0", n_envs=1), np.array([5, 20]), 32, 1, reward_rnn)[1] is None
    scored = compose_and_score(other, reward_rnn, 200, seed=1, batch=100)
    expected = lstm_log_prior(reward_rnn, scored.primers, scored.melodies)
    np.testing.assert_allclose(scored.log_prior, expected, atol=1e-5, rtol=1e-6)


def test_melodies_are_those_of_sample_and_generate(reward_rnn) -> None:
    primers, melodies = compose(reward_rnn, 250, seed=4, batch=100)
    for start in (0, 100, 200):  # each chunk draws from its own generator, seeded seed + 1 + start
        chunk = primers[start : start + 100]
        generator = torch.Generator().manual_seed(4 + 1 + start)
        sampled = reward_rnn.sample(len(chunk), 32, torch.as_tensor(chunk), generator=generator)
        np.testing.assert_array_equal(melodies[start : start + 100], sampled.numpy())
    for algorithm in ("q", "g"):
        tuner = RLTuner(algorithm, "MelodyCompose-v0", n_envs=1)
        primers, melodies = compose(tuner, 250, seed=4, batch=100)
        for start in (0, 100, 200):
            chunk = primers[start : start + 100]
            generated = tuner.generate(len(chunk), seed=4 + 1 + start, primer=chunk[:, None])
            np.testing.assert_array_equal(melodies[start : start + 100], generated)
        np.testing.assert_array_equal(compose_and_score(tuner, reward_rnn, 250, seed=4, batch=100).melodies, melodies)
        assert compose(tuner, 10, length=16)[1].shape == (10, 16)  # every model composes `length` notes


def test_summarise_reads_the_detectors_of_its_key(reward_rnn) -> None:
    scored = compose_and_score(reward_rnn, reward_rnn, 200, seed=0, batch=100)
    np.testing.assert_array_equal(scored.detectors.repeated, score_melodies(scored.melodies).repeated)
    bare = Scored(scored.primers, scored.melodies, scored.log_prior, scored.music_theory)  # no detectors
    assert summarise(scored) == summarise(bare)
    minor = Key.parse("A minor")
    assert summarise(scored, minor) == summarise(bare, minor) != summarise(bare)


def test_a_worker_process_scores_in_itself(reward_rnn, monkeypatch) -> None:
    def no_pool(*args):
        raise AssertionError("a nested call started worker processes")

    assert [worker_count(n, 2, batch=100) for n in (100, 200, 201, 100_000)] == [1, 1, 2, 2]  # tasks of 2 chunks
    monkeypatch.setattr(evaluate.mp, "parent_process", lambda: object())  # as in rl-tuner reproduce's workers
    assert worker_count(100_000, 2) == 1
    monkeypatch.setattr(evaluate, "_in_workers", no_pool)
    assert compose_and_score(reward_rnn, reward_rnn, 300, workers=2, batch=100).melodies.shape == (300, 32)


def test_workers_must_be_a_positive_int(reward_rnn) -> None:
    for workers in (0, True, 1.5):
        with pytest.raises(ValueError, match="workers must be a positive int"):
            compose_and_score(reward_rnn, reward_rnn, 10, workers=workers)


WORKERS = """
import numpy as np
import torch

from agents import RLTuner
from benchmarks.evaluate import compose_and_score
from melody_env.note_rnn import load_default_note_rnn

torch.set_num_threads(max(torch.get_num_threads(), 2))  # torch's default, and parallel on one core too
(torch.randn(512, 512) @ torch.randn(512, 512)).sum()  # this process now owns torch's OpenMP pool
THREADS = torch.get_num_threads()
rnn = load_default_note_rnn()
for model in (rnn, RLTuner("q", "MelodyCompose-v0", n_envs=1), RLTuner("g", "MelodyCompose-v0", n_envs=1)):
    one, two = (compose_and_score(model, rnn, 300, seed=5, workers=w, batch=50) for w in (1, 2))
    for field in ("primers", "melodies", "log_prior", "music_theory"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
    for field in ("repeated", "leap", "autocorrelation", "unique_min"):
        np.testing.assert_array_equal(getattr(one.detectors, field), getattr(two.detectors, field))
assert torch.get_num_threads() == THREADS
print("ok")
"""


def test_workers_give_the_numbers_of_one_process(run_python) -> None:
    # 300 melodies in chunks of 50: three tasks of two chunks, shared by two forked workers.
    assert run_python(["-c", WORKERS]).strip() == "ok"
