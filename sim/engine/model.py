"""ProcurementModel: the value-exchange market as a Mesa model (MODEL-SPEC sections 2-6), one market or many.

Each period runs five stages in a fixed order (MODEL-SPEC section 5):

1. ``place_orders``       customers order from their current supplier (base demand x G);
2. ``run_suppliers``      suppliers book revenue and costs, set budgets, update cash and capabilities;
3. ``update_customers``   customers update delivered value, market success, the ledger, trust, engagement;
4. ``renew_contracts``    exits, renewals: negotiation, parity over the peer network, switching;
5. ``record``             the recorder stores model- and agent-level series.

Within a stage every agent updates from the same state (synchronous, vectorised with
numpy), so activation order cannot bias results; every random draw comes from
``self.rng``, seeded by ``rng=``, so a seed fixes a run.

The same stages also run an **ensemble**: many independent markets (a sweep's runs) as
one array program, built by :meth:`ProcurementModel.ensemble`. Each market has its own
rows (suppliers and customers are numbered market after market), its own parameters and
its own generator, seeded as its single run's; customers only deal with suppliers of
their own market, so every market's results are exactly those of its single run. A single
run is the ensemble of one: there is one copy of the model's arithmetic. Each market is
seen through a :class:`Market` view (its scenario, state rows, recorder and events).
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario

from sim.engine.accounts import peer_edges, place_accounts
from sim.engine.agents import Customer, Supplier
from sim.engine.capabilities import INNOVATION, SALES, SUPPORT
from sim.engine.market import SUPPLIER_FIELDS, Links, Market, _concat_customers, _concat_suppliers
from sim.engine.network import PeerNetwork
from sim.engine.population import PROCUREMENT_LEVERS, CustomerParams, SupplierParams, Timetable, market_levers
from sim.engine.recorder import Recorder
from sim.engine.renewals import Renewals
from sim.engine.schedule import Schedule
from sim.engine.stages import Stages
from sim.engine.state import MarketState
from sim.engine.strategies import SUPPLIER_STRATEGIES
from sim.engine.switching import Streams

COCREATED = np.isin(np.arange(4), [INNOVATION, SUPPORT])  # the capabilities co-creation multiplies
SERVICED = np.isin(np.arange(4), [SUPPORT, SALES])  # the discretionary service a supplier allocates per account
RATES = (
    "perception_lag",
    "market_lag",
    "trust_lag",
    "trust_loss_lag",
    "engagement_lag",
    "expectation_lag",
    "cocreation_lag",
)


class ProcurementModel(Stages, Renewals, mesa.Model):
    """Suppliers and customers exchanging value; see the module docstring for the step order."""

    def __init__(self, scenario: Scenario, *, rng: int | None = None, record_agents_every: int = 1) -> None:
        seed = scenario.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        self.seed = seed
        self._build([scenario], [seed], [self.rng], record_agents_every)
        self.supplier_agents = [
            Supplier(self, i, self.sp.group_names[g], self.sp.strategy[i]) for i, g in enumerate(self.sp.group)
        ]
        self.customer_agents = [Customer(self, i, self.cp.group_names[g]) for i, g in enumerate(self.cp.group)]

    @classmethod
    def ensemble(cls, scenarios: list[Scenario], seeds: list[int], *, record_agents_every: int = 0) -> ProcurementModel:
        """Many markets as one model: market ``r`` is ``scenarios[r]`` run with seed ``seeds[r]``.

        The markets must share the horizon and the contract cycle; anything else (sizes,
        strategies, parameters, networks) may differ. No Mesa agents are made for an ensemble;
        read each market through ``model.markets``.
        """
        if not scenarios or len(scenarios) != len(seeds):
            raise ValueError("give one seed per scenario, and at least one scenario")
        model = cls.__new__(cls)
        mesa.Model.__init__(model, rng=int(seeds[0]))
        model.seed = int(seeds[0])
        rngs = [model.rng] + [np.random.default_rng(int(s)) for s in seeds[1:]]
        model._build(list(scenarios), [int(s) for s in seeds], rngs, record_agents_every)
        model.streams = Streams(rngs)  # each market's switching noise, drawn ahead from its generator
        model.supplier_agents, model.customer_agents = [], []
        return model

    # ------------------------------------------------------------------ set-up

    def _build(
        self, scenarios: list[Scenario], seeds: list[int], rngs: list[np.random.Generator], record_agents_every: int
    ) -> None:
        first = scenarios[0]
        for sc in scenarios[1:]:
            if sc.periods != first.periods or sc.market.contract_cycle != first.market.contract_cycle:
                raise ValueError("the markets of an ensemble must share the horizon (periods) and the contract cycle")
        self.config = first
        self.periods = first.periods
        self.period = 0
        self.months_per_period = 12.0 / first.periods_per_year
        self.cycle = first.market.contract_cycle
        self.rounds = first.market.negotiation_rounds
        self.fair_band = tuple(first.market.fair_band)
        self.smoothing = first.market.balance_smoothing
        self.engagement_reference = first.market.engagement_reference
        # The negotiation game: a procurement team's demanded level replaces the demand formula.
        self.demand_override: float | None = None
        self.streams: Streams | None = None  # one market draws straight from ``self.rng``

        # Each market's parameters (and its first draws: customer sizes), then one set of arrays.
        built: dict[int, tuple[SupplierParams, CustomerParams]] = {}  # per scenario object: its seeds share it
        markets = [
            Market(self, r, sc, seed, rng, built)
            for r, (sc, seed, rng) in enumerate(zip(scenarios, seeds, rngs, strict=True))
        ]
        self.markets = markets
        self._lay_out(markets)
        R = self.n_members
        self.sp = _concat_suppliers([m.sp for m in markets])
        self.cp = _concat_customers([m.cp for m in markets])
        self.state = MarketState.empty(self.n_suppliers, self.n_customers)
        for m in markets:
            m.attach()

        # Market levers, one value per market; schedules rewrite their market's entry.
        self.market_lever: dict[str, np.ndarray] = {}
        for r, m in enumerate(markets):
            for name, lever in market_levers(m.config).items():
                values = self.market_lever.setdefault(name, np.zeros(R))
                values[r] = lever.initial if isinstance(lever, Schedule) else float(lever)
                if isinstance(lever, Schedule):
                    m.timetable.add(lever, lambda v, a=values, i=r: a.__setitem__(i, v))
        # Value weights are set per customer group (segment), so values are looked up in
        # (group x supplier) tables, one per market, laid end to end.
        self.group_weights = markets[0].group_weights
        self.cocreation_weights = self.group_weights * COCREATED
        self._index_customers()
        baseline_value = self.baseline_value = self.cp.p["value_weights"].sum(axis=1)
        self.inverse_baseline_value = np.divide(
            1.0, baseline_value, out=np.zeros_like(baseline_value), where=baseline_value > 0
        )
        # Per-market settings as per-row arrays (the arithmetic is the same whatever the market).
        per_year = np.array([m.config.periods_per_year for m in markets], dtype=float)
        self.reporting_rate = (1.0 / per_year)[self.sup_member]  # published financials cover a year
        self.supplier_months = (12.0 / per_year)[self.sup_member]
        market = [m.config.market for m in markets]
        self.smoothing_rate = np.array([mk.balance_smoothing for mk in market])
        self.reference = np.array([mk.engagement_reference for mk in market])
        self.band = tuple(np.array([mk.fair_band[i] for mk in market])[self.cust_member] for i in (0, 1))
        self.band_middle = np.array([0.5 * (mk.fair_band[0] + mk.fair_band[1]) for mk in market])
        self.rounds_of = np.array([mk.negotiation_rounds for mk in market])
        self.customer_reference = self.reference[self.cust_member]
        self.customer_smoothing = self.smoothing_rate[self.cust_member]

        # Adjustment rates (1 / lag) of the first-order delays; lags are not levers.
        sp = self.sp.p
        self.capability_rate = 1.0 / sp["capability_lag"]
        self.rebuild_rate = 1.0 / sp["rebuild_lag"]
        self.standard_rate = 1.0 / sp["standard_lag"][:, None]
        self.standard_recovery_rate = 1.0 / sp["standard_recovery_lag"][:, None]
        self.margin_standard_rate = 1.0 / sp["margin_standard_lag"]
        self.budget_rate = 1.0 / sp["budget_lag"]
        self.overhead_rate = 1.0 / sp["overhead_lag"]
        # How each market shares its cuts: sequential orders only where a group asked for one, and
        # the one-pass proportional split where every budget weighs the same.
        ordered = np.array([(m.sp.cut_order >= 0).any() for m in markets])
        equal = np.array([(m.sp.p["cut_weights"] == m.sp.p["cut_weights"][:, :1]).all() for m in markets])
        self.cut_order = self.sp.cut_order if ordered.any() else None
        self.cut_weights = None if equal.all() else np.where(equal[self.sup_member, None], 1.0, sp["cut_weights"])
        self.cut_proportional = None if not ordered.any() and equal.all() else (equal & ~ordered)[self.sup_member]
        self.upkeep_per_unit = np.zeros(self.n_suppliers)  # set by stage 3, read by stage 4
        self.rate = {name: 1.0 / self.cp.p[name] for name in RATES}
        # Spend shares at period 0 are the budgets that sustain capability 1.0.
        self.reference_spend = sp["spend"].copy()
        self.strategies = {name: SUPPLIER_STRATEGIES[name]() for name in sorted(set(self.sp.strategy))}
        self.strategy_rows = {name: np.array([s == name for s in self.sp.strategy]) for name in self.strategies}

        self._links: Links | None = None
        self._initial_constants()
        for m in markets:
            self._initialise_market(m)
        self.network = PeerNetwork.merge([m.network for m in markets])
        st = self.state
        # Customers renewing in each phase of the contract cycle (their offsets never change).
        self.renewal_phase = [np.flatnonzero(st.offset == phase) for phase in range(self.cycle)]
        if R == 1:
            self.timetable = markets[0].timetable
            self.events = markets[0].events
        else:
            self.timetable = Timetable()
            for m in markets:
                for period, changes in m.timetable.events.items():
                    self.timetable.events[period].extend(changes)
            self.events = []
        self.recorder = Recorder(self, record_agents_every)
        self.datacollector = self.recorder  # Mesa's DataCollector API, vectorised

    def _initial_constants(self) -> None:
        """The state every market starts from whatever its scenario, set once for all their rows."""
        st = self.state
        for name in ("market_success", "trust", "service", "cover", "standard", "expectation_ratio"):
            getattr(st, name)[:] = 1.0
        st.notice_period[:] = -1
        st.exit_period[:] = -1
        st.active[:] = True

    def _initialise_market(self, market: Market) -> None:
        """One market's initial state, drawn from its own generator in the order of its single run."""
        st, sp, cp = market.state, market.sp.p, market.cp.p
        config = market.config
        st.base_demand[:] = market.base_demand
        share = sp["share"]
        st.supplier[:] = market.rng.choice(market.n_suppliers, size=market.n_customers, p=share / share.sum())
        if config.market.stagger_contracts:
            st.offset[:] = market.rng.integers(0, market.cycle, market.n_customers)
        place_accounts(market)  # named accounts: revenue, discount, renewal, supplier; grants on the timetable
        # market_success, trust, service, cover, notice_period, active, exit_period, standard and
        # expectation_ratio start at the same values in every market: _initial_constants sets them for all.
        st.engagement[:] = cp["engagement"]
        st.balance_smoothed[:] = 0.5 * (market.fair_band[0] + market.fair_band[1])
        st.capability[:] = sp["initial_capability"][:, None]
        # Standards start at the plan: the budgets the supplier aims for and the margin it defends.
        st.margin_standard[:] = sp["target_margin"]
        st.received_ratio[:] = sp["initial_capability"]
        book = np.bincount(st.supplier, weights=st.base_demand, minlength=market.n_suppliers)
        st.revenue_initial[:] = book
        st.overhead_fixed[:] = sp["overhead"] * book
        st.cash[:] = sp["cash_months"] / market.months_per_period * book
        st.customers_initial[:] = np.bincount(st.supplier, minlength=market.n_suppliers)
        st.margin[:] = sp["target_margin"]
        st.margin_reported[:] = sp["target_margin"]
        baseline_value = cp["value_weights"].sum(axis=1)
        # Customers expect what a supplier at full capability delivers, whatever state it starts in.
        st.expectation[:] = baseline_value
        st.value[:] = baseline_value * sp["initial_capability"][st.supplier]
        st.perceived_value[:] = cp["value_visibility"] * st.value
        network = config.market.network
        market.network = PeerNetwork.build(
            market.n_customers,
            network.kind,
            network.degree,
            network.rewire,
            market.rng,
            peer_edges(config),
            table=self.n_members == 1,  # an ensemble builds one table for all its markets
        )

    @property
    def accounts_dropped(self) -> int:
        """Accounts fired by their supplier (walk-away), over every market."""
        return sum(m.accounts_dropped for m in self.markets)

    @property
    def accounts_noticed(self) -> int:
        """Accounts given notice by their supplier (walk-away's first step), over every market."""
        return sum(m.accounts_noticed for m in self.markets)

    # ------------------------------------------------------------------ the period

    def step(self) -> None:
        """Advance one period through the five stages."""
        self.advance()

    def advance(self) -> None:
        """One period: the five stages (``step`` without Mesa's bookkeeping; outlook copies use it)."""
        self.timetable.apply(self.period)
        self.place_orders()
        self.run_suppliers()
        self.update_customers()
        self.renew_contracts()
        if self.period < self.periods:
            self.recorder.record()
        self.period += 1
        if self.period >= self.periods:
            self.running = False

    def _lay_out(self, markets: list[Market]) -> None:
        """Where each market's rows lie in the model's arrays (market after market), and its value table."""
        n_sup = np.array([m.n_suppliers for m in markets])
        n_cust = np.array([m.n_customers for m in markets])
        n_groups = np.array([len(m.group_weights) for m in markets])
        self.n_members = len(markets)
        self.n_suppliers, self.n_customers = int(n_sup.sum()), int(n_cust.sum())
        self.sup_count, self.options = n_sup, n_sup + 2  # options: staying, each supplier, leaving
        self.sup_start = np.concatenate([[0], np.cumsum(n_sup)[:-1]]).astype(np.int64)
        self.cust_start = np.concatenate([[0], np.cumsum(n_cust)[:-1]]).astype(np.int64)
        self.sup_member = np.repeat(np.arange(len(markets)), n_sup)
        self.cust_member = np.repeat(np.arange(len(markets)), n_cust)
        for m, s0, c0 in zip(markets, self.sup_start.tolist(), self.cust_start.tolist(), strict=True):
            m.suppliers, m.customers = slice(s0, s0 + m.n_suppliers), slice(c0, c0 + m.n_customers)
        # Uniform ensembles (same sizes) reduce per market by reshaping; others market by market.
        self.uniform = bool(
            (n_sup == n_sup[0]).all() and (n_cust == n_cust[0]).all() and (n_groups == n_groups[0]).all()
        )
        self._weights = [m.group_weights for m in markets]
        self._coweights = [w * COCREATED for w in self._weights]
        self._serviceweights = [w * SERVICED for w in self._weights]
        if self.uniform:
            self._weights, self._coweights = np.stack(self._weights), np.stack(self._coweights)
            self._serviceweights = np.stack(self._serviceweights)
        sizes = n_groups * n_sup
        self.table_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.table_size = int(sizes.sum())
        self.table_shape = (int(n_groups[0]), int(n_sup[0])) if len(markets) == 1 else (self.table_size,)
        self.value_table = np.zeros(self.table_size)
        self.cocreation_table = np.zeros(self.table_size)
        self.service_table = np.zeros(self.table_size)

    def _index_customers(self) -> None:
        """Each customer's (group, supplier 0) cell of its market's table, and its market's first supplier row."""
        self.cust_table = self.table_start[self.cust_member] + self.cp.group * self.sup_count[self.cust_member]
        self.cust_sup0 = self.sup_start[self.cust_member]

    def select(self, keep: list[int], *, copy_generators: bool) -> ProcurementModel:
        """The markets ``keep`` as a model of their own, stepping on from where they are (their rows copied).

        What the outlook steps: no series are recorded, no Mesa agents or bookkeeping come
        along (step it with :meth:`advance`), and no scheduled change applies any more. With
        ``copy_generators`` each market draws from a copy of its generator, so this model's
        own markets are untouched; otherwise the copies go on with the same generators.
        """
        twin = object.__new__(type(self))
        twin.__dict__.update({k: v for k, v in self.__dict__.items() if not k.startswith("_") and k not in _NOT_SHARED})
        sup_rows = np.concatenate(
            [np.arange(m.suppliers.start, m.suppliers.stop) for m in (self.markets[r] for r in keep)]
        )
        cust_rows = np.concatenate(
            [np.arange(m.customers.start, m.customers.stop) for m in (self.markets[r] for r in keep)]
        )
        markets = []
        for i, r in enumerate(keep):
            market = copy.copy(self.markets[r])
            market.model, market.index, market.events = twin, i, []
            if self.streams is None:
                market.rng = copy.deepcopy(market.rng) if copy_generators else market.rng
            markets.append(market)
        twin.markets = markets
        twin.streams = None if self.streams is None else self.streams.select(keep, copy_generators)
        if twin.streams is not None:
            for market, rng in zip(markets, twin.streams.rngs, strict=True):
                market.rng = rng
        twin.rng = markets[0].rng  # a one-market model draws from its market's generator
        twin.supplier_agents, twin.customer_agents = [], []
        twin.config = markets[0].config
        twin.running = True
        twin.timetable = Timetable()
        twin.events = []
        twin._links = None
        twin._lay_out(markets)
        twin.sp = SupplierParams(
            group=self.sp.group[sup_rows],
            group_names=self.sp.group_names,
            strategy=[self.sp.strategy[i] for i in sup_rows.tolist()],
            p={name: values[sup_rows] for name, values in self.sp.p.items()},
            cut_order=self.sp.cut_order[sup_rows],
        )
        procurement = self.cp.procurement[:, cust_rows]
        twin.cp = CustomerParams(
            group=self.cp.group[cust_rows],
            group_names=self.cp.group_names,
            p={
                name: procurement[PROCUREMENT_LEVERS.index(name)] if name in PROCUREMENT_LEVERS else values[cust_rows]
                for name, values in self.cp.p.items()
            },
            procurement=procurement,
        )
        twin._index_customers()
        for name in _SUPPLIER_ROWS:
            value = getattr(self, name)
            setattr(twin, name, None if value is None else value[sup_rows])
        twin.cut_order = None if self.cut_order is None else twin.sp.cut_order
        for name in _CUSTOMER_ROWS:
            setattr(twin, name, getattr(self, name)[cust_rows])
        twin.band = tuple(b[cust_rows] for b in self.band)
        twin.rate = {name: values[cust_rows] for name, values in self.rate.items()}
        for name in _MARKET_VALUES:
            setattr(twin, name, getattr(self, name)[keep])
        twin.market_lever = {name: values[keep] for name, values in self.market_lever.items()}
        twin.strategy_rows = {name: rows[sup_rows] for name, rows in self.strategy_rows.items()}
        twin.state = MarketState.empty(twin.n_suppliers, twin.n_customers)
        for f in fields(MarketState):
            rows = sup_rows if f.name in SUPPLIER_FIELDS else cust_rows
            getattr(twin.state, f.name)[:] = getattr(self.state, f.name)[rows]
        for market in markets:  # the copies' own views (their parameters are the twin's rows now)
            market.sp = SupplierParams(
                market.sp.group, market.sp.group_names, market.sp.strategy, dict(market.sp.p), market.sp.cut_order
            )
            market.cp = CustomerParams(market.cp.group, market.cp.group_names, dict(market.cp.p), market.cp.procurement)
            market.timetable = Timetable()
            market.attach()
        twin.network = PeerNetwork.merge([m.network for m in markets])
        twin.renewal_phase = [np.flatnonzero(twin.state.offset == phase) for phase in range(self.cycle)]
        twin.recorder = twin.datacollector = Recorder(twin, 0)
        return twin

    @property
    def links(self) -> Links:
        """Who buys from whom, in the forms the stages use; rebuilt only after customers move."""
        if self._links is None:
            self._links = Links.of(self)
        return self._links

    # ------------------------------------------------------------------ conveniences

    def run(self) -> ProcurementModel:
        """Run to the horizon and return self."""
        while self.running:
            self.step()
        return self

    @property
    def peer_graph(self):
        """The customers' peer network as a networkx graph (built on demand)."""
        return self.network.to_networkx()


# What :meth:`ProcurementModel.select` copies row by row (or market by market); private names it shares.
_SUPPLIER_ROWS = (
    "capability_rate",
    "rebuild_rate",
    "standard_rate",
    "standard_recovery_rate",
    "margin_standard_rate",
    "budget_rate",
    "overhead_rate",
    "reporting_rate",
    "supplier_months",
    "reference_spend",
    "cut_weights",
    "cut_proportional",
    "upkeep_per_unit",
)
_CUSTOMER_ROWS = ("baseline_value", "inverse_baseline_value", "customer_reference", "customer_smoothing")
_MARKET_VALUES = ("smoothing_rate", "reference", "band_middle", "rounds_of")
_NOT_SHARED = frozenset({"step", "random", "scenario", "data_registry"})  # Mesa's, bound to the original
