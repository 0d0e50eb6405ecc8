"""A blind listening study of the models' melodies, as the paper's Figure 3 (docs/spec.md §11).

``rl-tuner study serve`` builds a study folder from a results folder and serves it (Starlette on uvicorn);
``rl-tuner study report`` analyses it (Figure 3, Kruskal–Wallis and Mann–Whitney with Holm, Bradley–Terry,
pairwise win rates, agreement, ratings needed); ``rl-tuner study export`` writes CSV and JSON.
"""

__all__: list[str] = []
