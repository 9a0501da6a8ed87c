"""Experiments at scale: sweep files, a resumable runner on any executor, and analysis.

from sim.experiments import load_sweep, run_sweep, make_executor, analyze
sweep = load_sweep("phase_savings_vs_defense")
with make_executor(workers=2) as (executor, slots):
    result = run_sweep(sweep, "results/sweeps/phase", executor=executor, max_in_flight=2 * slots)
analysis = analyze("results/sweeps/phase")

An application: it may import the reports, runs, inputs and engine layers, not another
application. The names below load on first use, so ``procsim query`` (the store alone)
starts without the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiments.runner import SweepAborted, SweepResult, make_executor, run_sweep
    from sim.experiments.spec import Sweep, load_sweep
    from sim.experiments.store import query, read_runs

_PUBLIC = {
    "SweepAborted": "sim.experiments.runner",
    "SweepResult": "sim.experiments.runner",
    "make_executor": "sim.experiments.runner",
    "run_sweep": "sim.experiments.runner",
    "Sweep": "sim.experiments.spec",
    "load_sweep": "sim.experiments.spec",
    "query": "sim.experiments.store",
    "read_runs": "sim.experiments.store",
}
__all__ = ["Sweep", "SweepAborted", "SweepResult", "load_sweep", "make_executor", "query", "read_runs", "run_sweep"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim.experiments' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
