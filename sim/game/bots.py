"""Bots for empty seats, so a room with an odd number of teams still plays every table.

A procurement bot is one of the engine's procurement styles: at each round it demands what
that style's demand formula (:func:`sim.engine.customers.demand_level`) asks for, given the
table's market as it stands. A supplier bot is one of the engine's supplier strategies: it
stands in for the ``played`` strategy during the round, so the engine settles the renewal
exactly as in a simulation with that strategy. Both come from the engine's registries, so a
new style or strategy is a bot at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.customers import DEMAND_LEVERS, demand_level
from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES, SupplierStrategy
from sim.engine.strategies.base import summary

if TYPE_CHECKING:
    from sim.game.table import Table
    from sim.inputs.schema import Scenario


def bot_names(role: str) -> list[str]:
    """The bots that can take a seat of ``role``: procurement styles or supplier strategies."""
    if role == "procurement":
        return sorted(PROCUREMENT_STYLES)
    return sorted(name for name in SUPPLIER_STRATEGIES if name != "played")


def bot_choices() -> dict[str, list[dict[str, str]]]:
    """Every bot by role, with its name, the team name it plays under and a one-line description."""
    registry = {"procurement": PROCUREMENT_STYLES, "supplier": SUPPLIER_STRATEGIES}
    return {
        role: [
            {"name": name, "team": team_name(name), "description": summary(registry[role][name])}
            for name in bot_names(role)
        ]
        for role in ("procurement", "supplier")
    }


def team_name(name: str) -> str:
    """The team name a bot plays under, e.g. 'Bot (cost down)'."""
    return f"Bot ({name.replace('_', ' ')})"


def supplier_strategy(name: str) -> SupplierStrategy:
    """A fresh instance of the engine's supplier strategy ``name``."""
    return SUPPLIER_STRATEGIES[name]()


def procurement_demand(table: Table, style: str, scenario: Scenario) -> float:
    """What procurement of ``style`` demands at this table now (total discount, share of list price).

    The style's demand formula with its preset weights (the scenario's own settings when the
    scenario's customers buy in that style), on the table's market as it stands: the value
    procurement perceives, the price it pays, its own market and the supplier's reported margin.
    """
    own = scenario.customers[0].procurement
    settings = own.resolved().model_dump() if own.style == style else PROCUREMENT_STYLES[style].defaults
    st = table.model.state
    served = st.supplier >= 0
    if not served.any():
        return table.level()
    demand = demand_level(
        *(float(settings[k]) for k in DEMAND_LEVERS),
        float(st.perceived_value[served].mean()),
        float((1.0 - st.discount[served]).mean()),
        float(st.market_success[served].mean()),
        float(st.margin_reported[0]),
        0.0,  # one supplier per table: no peer gets a better price from it
    )
    return round(float(demand), 4)
