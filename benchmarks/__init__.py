"""Benchmarks and the reproduction of the paper: the `rl-tuner` command, Table 1, Figures 2 and 4, speed."""

__all__: list[str] = []
