"""procsim: an agent-based simulator of procurement negotiations and the value-exchange death spiral.

from sim import load_scenario, run_scenario
scenario = load_scenario("procurement_squeeze", overrides={"customers.count": 2000})
result = run_scenario(scenario, seed=1)
result.summary["outcome"], result.timeseries, result.model
"""

from .errors import InputError
from .model import ProcurementModel
from .runner import ReplicateResult, RunResult, run_replicates, run_scenario
from .scenario import Scenario, list_scenarios, load_scenario

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "ProcurementModel",
    "ReplicateResult",
    "RunResult",
    "Scenario",
    "__version__",
    "list_scenarios",
    "load_scenario",
    "run_replicates",
    "run_scenario",
]
