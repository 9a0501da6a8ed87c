"""Negotiation behaviours, one class per behaviour, registered by name.

Supplier strategies answer a procurement demand (``concede``, ``hold``, ``value_trade``,
``reciprocal``, ``boulware``, ``conceder``); procurement styles shape the demand
(``cost_down``, ``value_based``, ``partnership``, ``opportunist``). Look them up in
:data:`SUPPLIER_STRATEGIES` and :data:`PROCUREMENT_STYLES`.
"""

from . import procurement as _procurement  # noqa: F401  (registers the styles)
from . import supplier as _supplier  # noqa: F401  (registers the strategies)
from .base import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES, ProcurementStyle, SupplierStrategy

__all__ = ["PROCUREMENT_STYLES", "SUPPLIER_STRATEGIES", "ProcurementStyle", "SupplierStrategy"]
