"""procsim: an agent-based simulator of procurement negotiations and the value-exchange death spiral."""

from .model import ProcurementModel
from .scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = ["ProcurementModel", "Scenario", "load_scenario", "__version__"]
