"""The original implementation's differences measured one by one (``python -m benchmarks.ablations``)."""

__all__: list[str] = []
