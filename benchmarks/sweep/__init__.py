"""Sweeps on Ray Tune: every (algorithm, c, seed, exploration, hyperparameter) trained and scored as Table 1,
then aggregated across seeds (mean, IQM, bootstrap intervals, probability of improvement).

``rl-tuner sweep --algorithms q,psi --c 0.5,1 --seeds 5 --out runs/sweep`` or, from Python::

    from benchmarks.sweep import SweepConfig, run_sweep
    summary = run_sweep(SweepConfig(algorithms=("q", "psi"), c=(0.5, 1.0), seeds=5, out="runs/sweep"))
"""

from benchmarks.sweep.grid import SweepConfig, TrialSpec, grid_trials
from benchmarks.sweep.runner import run_sweep
from benchmarks.sweep.trial import run_trial

__all__ = ["SweepConfig", "TrialSpec", "grid_trials", "run_sweep", "run_trial"]
