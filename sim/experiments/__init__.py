"""Experiments at scale: sweep files, a resumable runner on any executor, and analysis.

from sim.experiments import load_sweep, run_sweep, make_executor, analyze
sweep = load_sweep("phase_savings_vs_defense")
with make_executor(workers=2) as (executor, slots):
    result = run_sweep(sweep, "results/sweeps/phase", executor=executor, max_in_flight=2 * slots)
analysis = analyze("results/sweeps/phase")
"""

from .runner import SweepAborted, SweepResult, make_executor, run_sweep
from .spec import Sweep, load_sweep
from .store import query, read_runs

__all__ = ["Sweep", "SweepAborted", "SweepResult", "load_sweep", "make_executor", "query", "read_runs", "run_sweep"]
