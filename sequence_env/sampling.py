"""Drawing notes from logits, batched: the one sampler the Note RNN, the env users and the agents share."""

from __future__ import annotations

import torch


def sample_logits(
    logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One class per row of ``logits (B, K)``: the argmax at temperature 0, else a draw of softmax(logits / T).

    Draws by inverting the cumulative distribution with one uniform number per row, which is several
    times faster than ``torch.multinomial`` for many small rows and gives the same distribution.

    :param logits: ``(B, K)`` unnormalised log-probabilities.
    :param temperature: softmax temperature, ``>= 0``.
    :param generator: torch generator for reproducible draws.
    :return: ``(B,)`` int64 classes.
    """
    if temperature == 0:
        return logits.argmax(dim=1)
    if not temperature > 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature!r}")
    cdf = torch.softmax(logits.float() / temperature, dim=1).cumsum_(dim=1)  # (B, K)
    u = torch.rand(cdf.shape[0], 1, generator=generator, device=cdf.device)  # (B, 1)
    return (cdf <= u).sum(dim=1).clamp_(max=cdf.shape[1] - 1)


__all__ = ["sample_logits"]
