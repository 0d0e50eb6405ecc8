"""NoteRNN: step vs forward, sampling, and safetensors checkpoints (docs/spec.md §3)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import sequence_env.checkpoint as checkpoint_module
from melody_env.note_rnn import (
    FORMAT_VERSION,
    KIND,
    NoteRNN,
    NoteRNNConfig,
    load_default_note_rnn,
    primer_from_file,
)
from reward_rules.tokens import NUM_CLASSES
from sequence_env.checkpoint import CheckpointError, checkpoint_paths, load_checkpoint, save_checkpoint
from sequence_env.lstm import tanh


@pytest.fixture
def model() -> NoteRNN:
    torch.manual_seed(0)
    net = NoteRNN().eval()
    with torch.no_grad():  # larger weights than the default init, so any mismatch shows
        for p in net.parameters():
            p.mul_(3.0)
    return net


def test_config_defaults_are_the_papers() -> None:
    net = NoteRNN()
    assert (net.config.num_classes, net.config.hidden_size) == (38, 100)
    assert net.lstm.weight_ih_l0.shape == (400, 38) and net.head.weight.shape == (38, 100)
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        NoteRNNConfig(hidden_size=0)


def test_step_matches_forward(model: NoteRNN) -> None:
    notes = torch.randint(0, NUM_CLASSES, (4, 24), generator=torch.Generator().manual_seed(1))
    h0, c0 = torch.randn(4, 100), torch.randn(4, 100)
    logits, (h, c) = model(notes, (h0, c0))
    assert logits.shape == (4, 24, 38) and h.shape == c.shape == (4, 100)
    state, stepped = (h0, c0), []
    with torch.no_grad():
        for t in range(24):
            out, state = model.step(notes[:, t], state)
            stepped.append(out)
    torch.testing.assert_close(torch.stack(stepped, 1), logits.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(state[0], h.detach(), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(state[1], c.detach(), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(model.output(h), logits[:, -1])  # the output layer alone, on the last h


def test_batched_step_equals_per_row_steps(model: NoteRNN) -> None:
    notes = torch.tensor([0, 1, 14, 37, 14])
    state = (torch.randn(5, 100), torch.randn(5, 100))
    with torch.no_grad():
        logits, (h, c) = model.step(notes, state)
        for i in range(5):
            row, (hi, ci) = model.step(notes[i : i + 1], (state[0][i : i + 1], state[1][i : i + 1]))
            torch.testing.assert_close(row[0], logits[i], atol=1e-6, rtol=1e-6)
            torch.testing.assert_close(hi[0], h[i], atol=1e-6, rtol=1e-6)
            torch.testing.assert_close(ci[0], c[i], atol=1e-6, rtol=1e-6)


def test_one_cell_step_by_hand() -> None:
    """All weights 0; input-gate bias b_i = 1, cell-input bias b_g = 0.5: c1 = σ(1)·tanh(0.5), h1 = σ(0)·tanh(c1)."""
    net = NoteRNN(NoteRNNConfig(hidden_size=2))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.lstm.bias_ih_l0[0:2] = 1.0  # gate order i, f, g, o
        net.lstm.bias_hh_l0[4:6] = 0.5
        net.head.bias[:] = torch.arange(38.0)
        logits, (h, c) = net.step(torch.tensor([7]))
    c1 = 1 / (1 + math.exp(-1)) * math.tanh(0.5)
    assert c[0].tolist() == pytest.approx([c1, c1], abs=1e-7)
    assert h[0].tolist() == pytest.approx([0.5 * math.tanh(c1)] * 2, abs=1e-7)
    assert logits[0].tolist() == pytest.approx(list(range(38)))


def test_step_is_differentiable_and_sees_weight_updates(model: NoteRNN) -> None:
    notes = torch.tensor([3, 5])
    logits, _ = model.step(notes)
    logits.sum().backward()
    assert model.lstm.weight_ih_l0.grad is not None and model.lstm.weight_ih_l0.grad[:, 3].abs().sum() > 0
    with torch.no_grad():
        before, _ = model.step(notes)
        model.lstm.bias_ih_l0.add_(1.0)  # an in-place update, as an optimiser makes
        after, _ = model.step(notes)
        expected, _ = model(notes.unsqueeze(1))
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected[:, 0], atol=1e-5, rtol=1e-5)


def test_bad_inputs_are_refused(model: NoteRNN) -> None:
    with pytest.raises(TypeError, match="int64"):
        model.step(torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        model.step(torch.tensor([[1]]))
    with pytest.raises(ValueError, match="state"):
        model.step(torch.tensor([1, 2]), model.initial_state(3))
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=-1.0)
    with pytest.raises(ValueError, match="primer"):
        model.sample(2, primer=torch.tensor([1, 2, 3]))


def test_sample_shapes_and_seeded_reproducibility(model: NoteRNN) -> None:
    a = model.sample(6, 32, generator=torch.Generator().manual_seed(3))
    b = model.sample(6, 32, generator=torch.Generator().manual_seed(3))
    c = model.sample(6, 32, generator=torch.Generator().manual_seed(4))
    assert a.shape == (6, 32) and a.dtype == torch.long
    assert int(a.min()) >= 0 and int(a.max()) < NUM_CLASSES
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert model.sample(3, 5, primer=torch.tensor([2, 3, 4])).shape == (3, 5)


def test_sample_with_log_prob_draws_the_same_melodies_and_their_teacher_forced_log_p(model: NoteRNN) -> None:
    """with_log_prob=True changes no draw; its log p is log_softmax of forward() on primer + melody, at each note."""
    primer = torch.tensor([2, 9, 30])
    plain = model.sample(3, 7, primer=primer, generator=torch.Generator().manual_seed(1))
    melodies, log_p = model.sample(3, 7, primer=primer, generator=torch.Generator().manual_seed(1), with_log_prob=True)
    assert torch.equal(melodies, plain) and log_p.shape == (3, 7)
    with torch.no_grad():
        logits = model(torch.cat([primer[:, None], melodies[:, :-1]], 1))[0]  # (n, length, A)
    expected = torch.log_softmax(logits, -1).gather(2, melodies[..., None])[..., 0]
    torch.testing.assert_close(log_p, expected, rtol=1e-5, atol=1e-5)


def test_random_primer_is_a_note_drawn_from_the_generator(model: NoteRNN) -> None:
    """primer=None ≡ one onset class uniform in 2..37 drawn first from the same generator."""
    g = torch.Generator().manual_seed(5)
    implicit = model.sample(4, 10, generator=g)
    g = torch.Generator().manual_seed(5)
    primer = torch.randint(2, 38, (4,), generator=g)
    explicit = model.sample(4, 10, primer=primer, generator=g)
    assert torch.equal(implicit, explicit)


def test_temperature_zero_is_greedy(model: NoteRNN) -> None:
    primer = torch.tensor([[14, 1, 16], [20, 0, 1]])
    out = model.sample(2, 12, primer=primer, temperature=0.0)
    with torch.no_grad():
        logits, state = model(primer)
        logits, expected = logits[:, -1], []
        for _ in range(12):
            note = logits.argmax(1)
            expected.append(note)
            logits, state = model.step(note, state)
    assert torch.equal(out, torch.stack(expected, 1))


def test_primer_from_an_abc_file(model: NoteRNN, tmp_path) -> None:
    """A G-major tune is transposed to C (as the corpus is): G4 (class 21) becomes C4 (class 14)."""
    path = tmp_path / "tune.abc"
    path.write_text("X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc d2 B2|c2 A2 G4|]\n")
    primer = primer_from_file(path, n=2)
    assert primer.shape == (2, 32) and torch.equal(primer[0], primer[1])
    assert primer[0, :8].tolist() == [14, 1, 16, 1, 18, 1, 19, 1]  # C D E F eighth notes
    assert primer_from_file(path, max_steps=8, transpose=False)[0].tolist() == [21, 1, 1, 1, 1, 1, 1, 1]
    assert model.sample(2, 8, primer=primer).shape == (2, 8)


def test_save_load_round_trip_is_exact(model: NoteRNN, tmp_path) -> None:
    json_path = model.save(tmp_path / "sub" / "net", metadata={"note": "hi"})
    assert json_path == tmp_path / "sub" / "net.json"
    header = json.loads(json_path.read_text())
    assert header["kind"] == "note_rnn" and header["format_version"] == FORMAT_VERSION
    assert header["config"] == {"num_classes": 38, "hidden_size": 100} and header["metadata"] == {"note": "hi"}
    for name in ("net", "net.json", "net.safetensors"):
        loaded = NoteRNN.load(tmp_path / "sub" / name)
        assert not loaded.training
        for key, value in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), key
    notes = torch.tensor([[2, 1, 0, 37]])
    assert torch.equal(loaded(notes)[0], model(notes)[0])
    small = NoteRNN(NoteRNNConfig(hidden_size=50))
    small.save(tmp_path / "small")
    assert NoteRNN.load(tmp_path / "small").config.hidden_size == 50
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["net.json", "net.safetensors"]
    assert (tmp_path / "sub" / "net.safetensors").stat().st_mode & 0o777 == 0o644


def test_failed_save_keeps_the_old_checkpoint(model: NoteRNN, tmp_path, monkeypatch) -> None:
    model.save(tmp_path / "net")
    before = (tmp_path / "net.safetensors").read_bytes()

    def broken(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        NoteRNN().save(tmp_path / "net")
    assert (tmp_path / "net.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "net.safetensors"]
    NoteRNN.load(tmp_path / "net")


def test_missing_file_is_refused(model: NoteRNN, tmp_path) -> None:
    with pytest.raises(CheckpointError, match=r"nothere\.json does not exist"):
        NoteRNN.load(tmp_path / "nothere")
    model.save(tmp_path / "net")
    (tmp_path / "net.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"net\.safetensors does not exist"):
        NoteRNN.load(tmp_path / "net")


def test_corrupt_files_are_refused(model: NoteRNN, tmp_path) -> None:
    model.save(tmp_path / "net")
    tensors, header = checkpoint_paths(tmp_path / "net")
    data = bytearray(tensors.read_bytes())
    data[-5] ^= 0xFF
    tensors.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the SHA-256"):
        NoteRNN.load(tmp_path / "net")
    # garbage whose hash is recorded: caught by the safetensors reader, not unpickled
    tensors.write_bytes(b"\x80\x04garbage, not safetensors")
    meta = json.loads(header.read_text())
    meta["tensors_sha256"] = checkpoint_module._sha256(tensors)
    header.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        NoteRNN.load(tmp_path / "net")
    header.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        NoteRNN.load(tmp_path / "net")


def test_wrong_format_version_and_kind_are_refused(model: NoteRNN, tmp_path) -> None:
    tensors = model.state_dict()
    save_checkpoint(tmp_path / "v2", tensors, {"num_classes": 38, "hidden_size": 100}, KIND, FORMAT_VERSION + 1)
    with pytest.raises(CheckpointError, match=f"format_version {FORMAT_VERSION + 1}.*re-create"):
        NoteRNN.load(tmp_path / "v2")
    save_checkpoint(tmp_path / "q", tensors, {}, "q_network", 1)
    with pytest.raises(CheckpointError, match="holds a 'q_network' checkpoint, expected 'note_rnn'"):
        NoteRNN.load(tmp_path / "q")
    assert load_checkpoint(tmp_path / "q", "q_network").config == {}


def test_wrong_shapes_are_refused(model: NoteRNN, tmp_path) -> None:
    small = NoteRNN(NoteRNNConfig(hidden_size=50)).state_dict()
    save_checkpoint(tmp_path / "h50", small, {"num_classes": 38, "hidden_size": 100}, KIND, FORMAT_VERSION)
    with pytest.raises(CheckpointError, match=r"lstm\.weight_hh_l0 is \(200, 50\).*needs \(400, 100\)"):
        NoteRNN.load(tmp_path / "h50")
    tampered = dict(model.state_dict())
    del tampered["head.bias"]
    save_checkpoint(tmp_path / "tampered", tampered, {"num_classes": 38, "hidden_size": 100}, KIND, FORMAT_VERSION)
    with pytest.raises(CheckpointError, match=r"missing head\.bias"):
        NoteRNN.load(tmp_path / "tampered")
    save_checkpoint(tmp_path / "badcfg", small, {"num_classes": 38, "hidden_size": -1}, KIND, FORMAT_VERSION)
    with pytest.raises(CheckpointError, match="invalid Note RNN config"):
        NoteRNN.load(tmp_path / "badcfg")
    assert issubclass(CheckpointError, ValueError)


def test_default_checkpoint_loads() -> None:
    net = load_default_note_rnn()
    assert net.config == NoteRNNConfig() and not net.training
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_tanh_by_hand_and_against_torch() -> None:
    # tanh(0) = 0, tanh(±ln 3 / 2) = ±1/2 (e^{ln 3} = 3: (3 − 1)/(3 + 1)), and saturation far out.
    x = torch.tensor([0.0, math.log(3) / 2, -math.log(3) / 2, 40.0, -40.0])
    torch.testing.assert_close(tanh(x), torch.tensor([0.0, 0.5, -0.5, 1.0, -1.0]), atol=2e-7, rtol=0)
    grid = torch.linspace(-12, 12, 100_001)
    assert (tanh(grid) - torch.tanh(grid)).abs().max() <= 2.5e-7


def test_step_equals_torch_lstm_cell(model: NoteRNN) -> None:
    notes, state = torch.tensor([0, 1, 14, 37]), (torch.randn(4, 100), torch.randn(4, 100))
    lstm = model.lstm
    with torch.no_grad():
        h, c = torch.lstm_cell(torch.eye(NUM_CLASSES)[notes], state, lstm.weight_ih_l0, lstm.weight_hh_l0,
                               lstm.bias_ih_l0, lstm.bias_hh_l0)  # fmt: skip
        logits, (h1, c1) = model.step(notes, state)
    torch.testing.assert_close(h1, h, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(c1, c, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(logits, model.head(h), atol=1e-5, rtol=1e-5)
