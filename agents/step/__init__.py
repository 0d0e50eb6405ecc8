"""The gradient step of RL Tuner for K agents: TD targets (:mod:`.targets`), the stacked networks
(:mod:`.stacked`), the Python step (:mod:`.update`, the reference) and its compiled form (:mod:`.native`,
``csrc/gradient_steps.cpp``)."""

__all__: list[str] = []
