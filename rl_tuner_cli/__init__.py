"""The ``rl-tuner`` command: the users' interface to the env, the tuners and the benchmarks."""

__all__: list[str] = []
