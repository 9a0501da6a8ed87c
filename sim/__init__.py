"""procsim: an agent-based simulator of procurement negotiations and the value-exchange death spiral.

from sim import load_scenario, run_scenario
scenario = load_scenario("procurement_squeeze", overrides={"customers.count": 2000})
result = run_scenario(scenario, seed=1)
result.summary["outcome"], result.timeseries, result.model

The public names below are imported on first use, so ``import sim`` (and every
``procsim`` command that does not simulate) starts without loading the engine. The
package's layers, and what each may import, are drawn in docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.version import __version__

if TYPE_CHECKING:
    from sim.api import run_replicates, run_scenario
    from sim.engine.model import ProcurementModel
    from sim.errors import InputError
    from sim.inputs.loading import list_scenarios, load_scenario
    from sim.inputs.schema import Scenario
    from sim.runs.runner import ReplicateResult, RunResult, run_ensemble

_PUBLIC = {
    "InputError": "sim.errors",
    "ProcurementModel": "sim.engine.model",
    "ReplicateResult": "sim.runs.runner",
    "RunResult": "sim.runs.runner",
    "Scenario": "sim.inputs.schema",
    "list_scenarios": "sim.inputs.loading",
    "load_scenario": "sim.inputs.loading",
    "run_ensemble": "sim.runs.runner",
    "run_replicates": "sim.api",
    "run_scenario": "sim.api",
}

__all__ = [
    "InputError",
    "ProcurementModel",
    "ReplicateResult",
    "RunResult",
    "Scenario",
    "__version__",
    "list_scenarios",
    "load_scenario",
    "run_ensemble",
    "run_replicates",
    "run_scenario",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
