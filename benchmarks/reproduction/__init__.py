"""The paper's Table 1 and Figures 2 and 4 reproduced: training, scoring, figures, the listening page."""

__all__: list[str] = []
