"""Procurement styles (MODEL-SPEC section 4): presets of the demand formula's weights.

The demand itself is computed in :func:`sim.engine.customers.procurement_demand`; a style only
says how hard each term pulls and how much engagement the customer offers.
"""

from __future__ import annotations

from typing import ClassVar

from sim.engine.strategies.base import ProcurementStyle

_COMMON = {"surplus_target": 0.3, "max_discount": 0.35, "margin_norm": 0.0}


class CostDown(ProcurementStyle):
    """Chases a fixed savings target, sees little of the non-price value, engages little."""

    name = "cost_down"
    engagement = 0.45
    defaults: ClassVar[dict[str, float]] = {
        **_COMMON,
        "savings_target": 0.05,
        "value_pressure": 0.5,
        "budget_pressure": 0.5,
        "financials_pressure": 0.0,
        "parity_pressure": 0.5,
        "value_visibility": 0.95,
    }


class ValueBased(ProcurementStyle):
    """Asks for a discount only when the value it receives falls short; sees the full value."""

    name = "value_based"
    engagement = 0.5
    defaults: ClassVar[dict[str, float]] = {
        **_COMMON,
        "savings_target": 0.0,
        "value_pressure": 0.5,
        "budget_pressure": 0.25,
        "financials_pressure": 0.0,
        "parity_pressure": 0.25,
        "value_visibility": 1.0,
    }


class Partnership(ProcurementStyle):
    """Invests engagement in the relationship and presses lightly on price."""

    name = "partnership"
    engagement = 0.85
    defaults: ClassVar[dict[str, float]] = {
        **_COMMON,
        "savings_target": 0.0,
        "value_pressure": 0.25,
        "budget_pressure": 0.1,
        "financials_pressure": 0.0,
        "parity_pressure": 0.0,
        "value_visibility": 1.0,
    }


class Opportunist(ProcurementStyle):
    """Points at the supplier's financials ("I can see your margins") and at peers' prices."""

    name = "opportunist"
    engagement = 0.4
    defaults: ClassVar[dict[str, float]] = {
        **_COMMON,
        "savings_target": 0.02,
        "value_pressure": 0.25,
        "budget_pressure": 0.25,
        "financials_pressure": 1.0,
        "parity_pressure": 0.75,
        "value_visibility": 0.9,
    }
