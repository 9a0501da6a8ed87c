"""Experiments at scale: sweep files, a resumable runner on any executor, and analysis.

from sim.experiments import load_sweep, run_sweep, make_executor, analyze
sweep = load_sweep("phase_savings_vs_defense")
with make_executor(workers=2) as (executor, slots):
    result = run_sweep(sweep, "results/sweeps/phase", executor=executor, max_in_flight=2 * slots)
analysis = analyze("results/sweeps/phase")

The public names are imported on first use, so reading and checking a sweep file
(``procsim validate``) and ``procsim query`` do not load the engine. An application: it may import the
reports, runs, inputs and engine layers, not another application.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiments.analysis import analyze
    from sim.experiments.envelopes import envelopes
    from sim.experiments.runner import SweepAborted, SweepResult, make_executor, run_sweep
    from sim.experiments.spec import Sweep, load_sweep
    from sim.experiments.sql import query
    from sim.experiments.store import read_runs

_PUBLIC = {
    "Sweep": "sim.experiments.spec",
    "SweepAborted": "sim.experiments.runner",
    "SweepResult": "sim.experiments.runner",
    "analyze": "sim.experiments.analysis",
    "envelopes": "sim.experiments.envelopes",
    "load_sweep": "sim.experiments.spec",
    "make_executor": "sim.experiments.runner",
    "query": "sim.experiments.sql",
    "read_runs": "sim.experiments.store",
    "run_sweep": "sim.experiments.runner",
}

__all__ = [
    "Sweep",
    "SweepAborted",
    "SweepResult",
    "analyze",
    "envelopes",
    "load_sweep",
    "make_executor",
    "query",
    "read_runs",
    "run_sweep",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
