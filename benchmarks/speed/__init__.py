"""The speed report and the benchmarks it runs (``rl-tuner speed``)."""

__all__: list[str] = []
