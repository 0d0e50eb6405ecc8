"""The molecule benchmarks: sampling with log-probabilities, MOSES metrics per run, the across-seed table,
the published numbers beside it, and pictures of sampled molecules (``rl-tuner ... --task molecule``)."""

__all__: list[str] = []
