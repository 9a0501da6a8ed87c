"""Turn a resolved scenario into per-agent parameter arrays and a timetable of lever changes.

Groups become contiguous index ranges; every lever becomes a column in a numpy array,
and a scheduled lever becomes events that rewrite its slice at the periods it changes.
The model's step code then reads plain arrays, whatever the scenario looked like.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.inputs.schema import CustomerGroup, Scenario, SupplierGroup

from sim.engine.capabilities import CAPABILITIES
from sim.engine.schedule import Schedule

SUPPLIER_LEVERS = (
    "concession_rate",
    "margin_defense",
    "gross_margin",
    "overhead",
    "cost_to_serve",
    "engagement_value",
    "target_margin",
    "cash_reserve_months",
    "max_cut",
    "acquisition_discount",
    "gift_cost_ratio",
    "explain_rate",
    "margin_floor",
    "service_response",
    "firmness",
    "value_pricing",
)
SUPPLIER_NUMBERS = (
    "share",
    "engagement_cost_saving",
    "cash_months",
    "insolvency_periods",
    "overhead_lag",
    "initial_capability",
    "standard_lag",
    "standard_recovery_lag",
    "margin_standard_lag",
    "budget_lag",
)
CUSTOMER_LEVERS = ("engagement", "elasticity", "cocreation_gain", "switching_cost", "choice_temperature", "reciprocity")
CUSTOMER_NUMBERS = (
    "market_lag",
    "perception_lag",
    "trust_lag",
    "trust_loss_lag",
    "engagement_lag",
    "expectation_lag",
    "trust_tolerance",
    "cocreation_lag",
    "development_budget",
    "redesign_share",
    "redesign_periods",
    "size_spread",
)
PROCUREMENT_LEVERS = (
    "savings_target",
    "value_pressure",
    "budget_pressure",
    "financials_pressure",
    "parity_pressure",
    "surplus_target",
    "max_discount",
    "margin_norm",
    "value_visibility",
)
MARKET_LEVERS = ("ratchet", "outside_option")


@dataclass
class Timetable:
    """Lever changes keyed by period; each change is a zero-argument function."""

    events: dict[int, list[Callable[[], None]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, schedule: Schedule, apply: Callable[[float], None]) -> None:
        for period, value in schedule.points[1:]:
            self.events[period].append(lambda v=value: apply(v))

    def apply(self, period: int) -> None:
        for change in self.events.get(period, ()):
            change()


def baseline_margin(group: SupplierGroup) -> float:
    """Operating margin at list price with the group's initial cost structure."""
    spend = sum(_initial(v) for v in group.spend.as_list())
    return _initial(group.gross_margin) - spend - _initial(group.overhead) - _initial(group.cost_to_serve)


def _initial(value: float | Schedule) -> float:
    return value.initial if isinstance(value, Schedule) else float(value)


def _fill(
    table: dict[str, np.ndarray],
    name: str,
    sl: slice,
    value: float | Schedule,
    timetable: Timetable,
    column: int | None = None,
) -> None:
    """Write a lever's period-0 value into its slice and schedule its later changes."""
    index = sl if column is None else (sl, column)
    table[name][index] = _initial(value)
    if isinstance(value, Schedule):
        # Looked up when the change applies: an ensemble re-points the table at its own arrays.
        timetable.add(value, lambda v, t=table, n=name, i=index: t[n].__setitem__(i, v))


@dataclass
class SupplierParams:
    """Per-supplier parameters; ``p`` maps lever names to arrays of shape (S,) or (S, 4)."""

    group: np.ndarray
    group_names: list[str]
    strategy: list[str]
    p: dict[str, np.ndarray]
    cut_order: np.ndarray  # (S, 4) capability indices, or -1 rows for "share by weights"


@dataclass
class CustomerParams:
    """Per-customer parameters; ``p`` maps lever names to arrays of shape (N,) or (N, 4)."""

    group: np.ndarray
    group_names: list[str]
    p: dict[str, np.ndarray]
    procurement: np.ndarray  # (len(PROCUREMENT_LEVERS), N); rows are the arrays in ``p``


def build_suppliers(groups: list[SupplierGroup], timetable: Timetable) -> SupplierParams:
    n = sum(g.count for g in groups)
    p: dict[str, np.ndarray] = {name: np.zeros(n) for name in (*SUPPLIER_LEVERS, *SUPPLIER_NUMBERS)}
    for name in ("spend", "capability_lag", "rebuild_lag", "cut_weights"):
        p[name] = np.zeros((n, len(CAPABILITIES)))
    p["walk_away_periods"] = np.full(n, np.inf)
    p["concession_exponent"] = np.full(n, np.nan)
    cut_order = np.full((n, len(CAPABILITIES)), -1, dtype=np.int64)
    group = np.zeros(n, dtype=np.int64)
    strategy: list[str] = []
    start = 0
    for gi, g in enumerate(groups):
        sl = slice(start, start + g.count)
        group[sl] = gi
        strategy += [g.strategy] * g.count
        for name in SUPPLIER_LEVERS:
            value = getattr(g, name)
            if name == "target_margin" and value == "baseline":
                value = baseline_margin(g)
            _fill(p, name, sl, value, timetable)
        for name in SUPPLIER_NUMBERS:
            p[name][sl] = float(getattr(g, name))
        for k, cap in enumerate(CAPABILITIES):
            _fill(p, "spend", sl, getattr(g.spend, cap), timetable, column=k)
            p["capability_lag"][sl, k] = getattr(g.capability_lag, cap)
            p["rebuild_lag"][sl, k] = getattr(g.rebuild_lag, cap)
            p["cut_weights"][sl, k] = getattr(g.cut_weights, cap)
        if g.walk_away_periods is not None:
            p["walk_away_periods"][sl] = g.walk_away_periods
        if g.concession_exponent is not None:
            p["concession_exponent"][sl] = g.concession_exponent
        if g.cut_order:
            order = [CAPABILITIES.index(c) for c in g.cut_order]
            order += [k for k in range(len(CAPABILITIES)) if k not in order]
            cut_order[sl] = order
        start += g.count
    return SupplierParams(
        group=group, group_names=[g.name for g in groups], strategy=strategy, p=p, cut_order=cut_order
    )


def customer_params(groups: list[CustomerGroup], timetable: Timetable) -> CustomerParams:
    """Per-customer parameters of the groups, one block after the other (no random draws)."""
    n = sum(g.count for g in groups)
    p: dict[str, np.ndarray] = {name: np.zeros(n) for name in (*CUSTOMER_LEVERS, *CUSTOMER_NUMBERS)}
    # Procurement levers are rows of one block, so a renewal gathers them in one operation.
    procurement = np.zeros((len(PROCUREMENT_LEVERS), n))
    p.update({name: procurement[i] for i, name in enumerate(PROCUREMENT_LEVERS)})
    p["value_weights"] = np.zeros((n, len(CAPABILITIES)))
    group = np.zeros(n, dtype=np.int64)
    start = 0
    for gi, g in enumerate(groups):
        sl = slice(start, start + g.count)
        group[sl] = gi
        for name in CUSTOMER_LEVERS:
            _fill(p, name, sl, getattr(g, name), timetable)
        for name in CUSTOMER_NUMBERS:
            p[name][sl] = float(getattr(g, name))
        for name in PROCUREMENT_LEVERS:
            _fill(p, name, sl, getattr(g.procurement, name), timetable)
        p["value_weights"][sl] = g.value_weights.as_list()
        start += g.count
    return CustomerParams(group=group, group_names=[g.name for g in groups], p=p, procurement=procurement)


def customer_sizes(groups: list[CustomerGroup], periods_per_year: int, rng: np.random.Generator) -> np.ndarray:
    """Base demand of every customer (list-price spend per period): a market's first draws, group after group."""
    base_demand = np.zeros(sum(g.count for g in groups))
    start = 0
    for g in groups:
        sigma = g.size_spread
        # Log-normal sizes with mean 1, so a group's total spend is count x annual revenue on average.
        sizes = rng.lognormal(-0.5 * sigma**2, sigma, g.count) if sigma > 0 else np.ones(g.count)
        base_demand[start : start + g.count] = g.annual_revenue / periods_per_year * sizes
        start += g.count
    return base_demand


def market_levers(scenario: Scenario) -> dict[str, float | Schedule]:
    return {name: getattr(scenario.market, name) for name in MARKET_LEVERS}
