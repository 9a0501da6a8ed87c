"""One market of a model (a view on its rows), and the customer-supplier links the stages read."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.kernels import links_pass
from sim.engine.network import PeerNetwork
from sim.engine.population import (
    PROCUREMENT_LEVERS,
    CustomerParams,
    SupplierParams,
    Timetable,
    build_suppliers,
    customer_params,
    customer_sizes,
)
from sim.engine.recorder import MemberRecorder
from sim.engine.state import MarketState

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel
    from sim.inputs.schema import Scenario


class Market:
    """One market of a model: its scenario, generator, rows of the model's arrays, events and recorder.

    ``state``, ``sp`` and ``cp`` are views on the market's rows, so what is written through
    a market (its set-up, named accounts, scheduled grants) lands in the model's arrays.
    Supplier numbers in ``state.supplier`` are the market's own (0 = its first supplier).
    """

    def __init__(
        self,
        model: ProcurementModel,
        index: int,
        scenario: Scenario,
        seed: int,
        rng: np.random.Generator,
        built: dict[int, tuple[SupplierParams, CustomerParams]] | None = None,
    ):
        self.model = model
        self.index = index
        self.config = scenario
        self.seed = seed
        self.rng = rng
        self.periods = scenario.periods
        self.cycle = scenario.market.contract_cycle
        self.months_per_period = 12.0 / scenario.periods_per_year
        self.fair_band = tuple(scenario.market.fair_band)
        self.events: list[tuple[int, str]] = []  # (period, plain-language event) for reports
        self.accounts_dropped = 0  # accounts fired by their supplier (walk-away)
        self.accounts_noticed = 0  # accounts given notice (their price corrected to pay for their upkeep)
        self.timetable = Timetable()
        self.sp, self.cp = _parameters(scenario, self.timetable, built)
        self.base_demand = customer_sizes(scenario.customers, scenario.periods_per_year, rng)
        self.n_suppliers, self.n_customers = len(self.sp.strategy), len(self.base_demand)
        self.group_weights = np.array([g.value_weights.as_list() for g in scenario.customers])
        self.suppliers = self.customers = slice(0)
        self.state: MarketState
        self.network: PeerNetwork

    @property
    def period(self) -> int:
        return self.model.period

    @property
    def recorder(self) -> MemberRecorder:
        return self.model.recorder.member(self.index)

    def attach(self) -> None:
        """Make this market's parameters and state views on its rows of the model's arrays."""
        model = self.model
        suppliers, customers = self.suppliers, self.customers
        for name in self.sp.p:
            self.sp.p[name] = model.sp.p[name][suppliers]
        for name in self.cp.p:
            self.cp.p[name] = model.cp.p[name][customers]
        self.cp.procurement = model.cp.procurement[:, customers]
        st = model.state
        views = {name: getattr(st, name)[suppliers if name in SUPPLIER_FIELDS else customers] for name in STATE_FIELDS}
        self.state = MarketState(**views)
        self.state.customer_block = st.customer_block[:, customers]
        self.state.customer_rows = st.customer_rows


def _parameters(
    scenario: Scenario, timetable: Timetable, built: dict[int, tuple[SupplierParams, CustomerParams]] | None
) -> tuple[SupplierParams, CustomerParams]:
    """A market's supplier and customer parameters. Markets of an ensemble that share a scenario object (the
    seeds of one design point) share what was built for the first of them, in dictionaries of their own (each
    market re-points its entries at its rows when it attaches); a scenario with scheduled levers is built for
    each market, since its timetable writes through that market's own dictionaries."""
    key = id(scenario)
    if built is not None and key in built:
        return _own(*built[key])
    sp = build_suppliers(scenario.suppliers, timetable)
    cp = customer_params(scenario.customers, timetable)
    if built is not None and not timetable.events:
        built[key] = _own(sp, cp)
    return sp, cp


def _own(sp: SupplierParams, cp: CustomerParams) -> tuple[SupplierParams, CustomerParams]:
    """The same parameter arrays in dictionaries of their own."""
    return (
        SupplierParams(sp.group, sp.group_names, list(sp.strategy), dict(sp.p), sp.cut_order),
        CustomerParams(cp.group, cp.group_names, dict(cp.p), cp.procurement),
    )


STATE_FIELDS = tuple(f.name for f in fields(MarketState))
SUPPLIER_FIELDS = frozenset(
    f.name for f in fields(MarketState)[: [f.name for f in fields(MarketState)].index("base_demand")]
)


@dataclass(frozen=True)
class Links:
    """The customer-supplier links: served mask, supplier row (the market's first where there is none),
    the (group, supplier) cell of the market's table, and the base demand served in each cell."""

    served: np.ndarray
    on: np.ndarray  # served as 0.0 / 1.0, to switch flows off without masking
    supplier: np.ndarray  # supplier row; the market's first where there is none (its flows are zero anyway)
    cell: np.ndarray  # index into the tables of (group x supplier) cells, market after market
    base: np.ndarray  # base demand served in each cell: (groups, S) for one market, flat for an ensemble

    @classmethod
    def of(cls, model: ProcurementModel) -> Links:
        n = model.n_customers
        served, on = np.empty(n, dtype=bool), np.empty(n)
        supplier, cell, base = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(model.table_size)
        links_pass(
            model.state.supplier,
            model.cust_table,
            model.cust_sup0,
            model.state.base_demand,
            served,
            on,
            supplier,
            cell,
            base,
        )
        return cls(served, on, supplier, cell, base.reshape(model.table_shape))


def _concat_suppliers(parts: list[SupplierParams]) -> SupplierParams:
    if len(parts) == 1:
        one = parts[0]
        return SupplierParams(one.group, one.group_names, list(one.strategy), dict(one.p), one.cut_order)
    return SupplierParams(
        group=np.concatenate([p.group for p in parts]),
        group_names=parts[0].group_names,
        strategy=[s for p in parts for s in p.strategy],
        p={name: np.concatenate([p.p[name] for p in parts]) for name in parts[0].p},
        cut_order=np.concatenate([p.cut_order for p in parts]),
    )


def _concat_customers(parts: list[CustomerParams]) -> CustomerParams:
    procurement = np.concatenate([p.procurement for p in parts], axis=1) if len(parts) > 1 else parts[0].procurement
    p = {
        name: procurement[PROCUREMENT_LEVERS.index(name)]
        if name in PROCUREMENT_LEVERS
        else (np.concatenate([q.p[name] for q in parts]) if len(parts) > 1 else parts[0].p[name])
        for name in parts[0].p
    }
    group = np.concatenate([q.group for q in parts]) if len(parts) > 1 else parts[0].group
    return CustomerParams(group=group, group_names=parts[0].group_names, p=p, procurement=procurement)
