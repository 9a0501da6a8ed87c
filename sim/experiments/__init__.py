"""Experiments at scale: sweep files, a resumable runner on any executor, and analysis.

from sim.experiments import load_sweep, run_sweep, make_executor, analyze
sweep = load_sweep("phase_savings_vs_defense")
with make_executor(workers=2) as (executor, slots):
    result = run_sweep(sweep, "results/sweeps/phase", executor=executor, max_in_flight=2 * slots)
analysis = analyze("results/sweeps/phase")

An application: it may import the reports, runs, inputs and engine layers, not another
application.
"""

from sim.experiments.runner import SweepAborted, SweepResult, make_executor, run_sweep
from sim.experiments.spec import Sweep, load_sweep
from sim.experiments.sql import query
from sim.experiments.store import read_runs

__all__ = ["Sweep", "SweepAborted", "SweepResult", "load_sweep", "make_executor", "query", "read_runs", "run_sweep"]
