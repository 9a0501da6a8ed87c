"""Negotiation behaviours, one class per behaviour, registered by name.

Supplier strategies answer a procurement demand (``concede``, ``hold``, ``value_trade``,
``reciprocal``, ``boulware``, ``conceder``); procurement styles shape the demand
(``cost_down``, ``value_based``, ``partnership``, ``opportunist``). Look them up in
:data:`SUPPLIER_STRATEGIES` and :data:`PROCUREMENT_STYLES`.

Part of the engine: it may import the engine's negotiation rules and numpy only.
"""

from sim.engine.strategies import procurement as _procurement  # noqa: F401  (registers the styles)
from sim.engine.strategies import supplier as _supplier  # noqa: F401  (registers the strategies)
from sim.engine.strategies.base import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES, ProcurementStyle, SupplierStrategy

__all__ = ["PROCUREMENT_STYLES", "SUPPLIER_STRATEGIES", "ProcurementStyle", "SupplierStrategy"]
