"""The generic env: the batched core, one Gymnasium env, the vector env, the SB3 adapter, the numpy prior steppers."""

__all__: list[str] = []
