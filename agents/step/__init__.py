"""The gradient step of RL Tuner for K agents: TD targets (:mod:`.targets`), the stacked networks
(:mod:`.stacked`), the one-layer LSTM's hand-written step (:mod:`.update`, the reference) and its compiled
form (:mod:`.native`, ``csrc/gradient_steps.cpp``), and torch's autograd step for any prior (:mod:`.autograd`)."""

__all__: list[str] = []
