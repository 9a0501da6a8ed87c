"""Plain-language names for the strategies and procurement styles shown on the dashboard's controls."""

from __future__ import annotations

STRATEGIES = {
    "concede": "Concede part of the gap",
    "hold": "Hold the price, explain its value",
    "value_trade": "Add service instead of a discount",
    "reciprocal": "Concede only to engaged buyers",
    "boulware": "Hold firm, concede late",
    "conceder": "Concede early",
}
STYLES = {
    "cost_down": "Cost-down (savings target)",
    "value_based": "Value-based",
    "partnership": "Partnership",
    "opportunist": "Opportunist",
}


def strategy(name: str) -> str:
    """The plain name of a supplier strategy (its code name if it has none)."""
    return STRATEGIES.get(name, name.replace("_", " "))


def style(name: str) -> str:
    """The plain name of a procurement style (its code name if it has none)."""
    return STYLES.get(name, name.replace("_", " "))
