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
from dataclasses import dataclass, fields

import mesa
import numpy as np

from .accounts import peer_edges, place_accounts
from .agents import Customer, Supplier
from .capabilities import INNOVATION, SALES, SUPPORT, distribute_cuts
from .customers import DEMAND_LEVERS, fresh_cocreation
from .delays import toward_asymmetric
from .kernels import (
    TERMS,
    alternatives_pass,
    customer_pass,
    going_terms_pass,
    links_pass,
    renewal_terms_pass,
    supplier_books_pass,
)
from .negotiation import NegotiationContext, Settlement
from .network import PeerNetwork
from .population import (
    PROCUREMENT_LEVERS,
    CustomerParams,
    SupplierParams,
    Timetable,
    build_customers,
    build_suppliers,
    market_levers,
)
from .recorder import MemberRecorder, Recorder
from .scenario import Scenario
from .schedule import Schedule
from .state import MarketState
from .strategies import SUPPLIER_STRATEGIES
from .switching import Streams, choose_suppliers

MAX_DISCOUNT = 0.95  # hard physical cap on any discount, far above every documented bound
# Support capability below which added service costs no more (a floor that keeps gift costs finite).
SUPPORT_FLOOR = 0.1
COCREATED = np.isin(np.arange(4), [INNOVATION, SUPPORT])  # the capabilities co-creation multiplies
RATES = (
    "perception_lag",
    "market_lag",
    "trust_lag",
    "trust_loss_lag",
    "engagement_lag",
    "expectation_lag",
    "cocreation_lag",
)


class Market:
    """One market of a model: its scenario, generator, rows of the model's arrays, events and recorder.

    ``state``, ``sp`` and ``cp`` are views on the market's rows, so what is written through
    a market (its set-up, named accounts, scheduled grants) lands in the model's arrays.
    Supplier numbers in ``state.supplier`` are the market's own (0 = its first supplier).
    """

    def __init__(self, model: ProcurementModel, index: int, scenario: Scenario, seed: int, rng: np.random.Generator):
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
        self.timetable = Timetable()
        self.sp = build_suppliers(scenario.suppliers, self.timetable)
        self.cp, self.base_demand = build_customers(scenario.customers, scenario.periods_per_year, self.timetable, rng)
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
        views = {}
        for f in fields(MarketState):
            rows = suppliers if f.name in SUPPLIER_FIELDS else customers
            views[f.name] = getattr(st, f.name)[rows]
        self.state = MarketState(**views)
        self.state.customer_block = st.customer_block[:, customers]
        self.state.customer_rows = st.customer_rows


SUPPLIER_FIELDS = frozenset(
    f.name for f in fields(MarketState)[: [f.name for f in fields(MarketState)].index("base_demand")]
)


class ProcurementModel(mesa.Model):
    """Suppliers and customers exchanging value; see the module docstring for the step order."""

    def __init__(
        self, scenario: Scenario | None = None, *, rng: int | None = None, record_agents_every: int = 1
    ) -> None:
        scenario = scenario if scenario is not None else Scenario()
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
        markets = [
            Market(self, r, sc, seed, rng) for r, (sc, seed, rng) in enumerate(zip(scenarios, seeds, rngs, strict=True))
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
        baseline_value = self.cp.p["value_weights"].sum(axis=1)
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
        self.rate = {name: 1.0 / self.cp.p[name] for name in RATES}
        # Spend shares at period 0 are the budgets that sustain capability 1.0.
        self.reference_spend = sp["spend"].copy()
        self.strategies = {name: SUPPLIER_STRATEGIES[name]() for name in sorted(set(self.sp.strategy))}
        self.strategy_rows = {name: np.array([s == name for s in self.sp.strategy]) for name in self.strategies}

        self._links: Links | None = None
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
        st.market_success[:] = 1.0
        st.trust[:] = 1.0
        st.engagement[:] = cp["engagement"]
        st.balance_smoothed[:] = 0.5 * (market.fair_band[0] + market.fair_band[1])
        st.active[:] = True
        st.exit_period[:] = -1
        st.capability[:] = sp["initial_capability"][:, None]
        # Standards start at the plan: the budgets the supplier aims for and the margin it defends.
        st.standard[:] = 1.0
        st.margin_standard[:] = sp["target_margin"]
        st.expectation_ratio[:] = 1.0
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

    def place_orders(self) -> None:
        """Stage 1: volume from base demand and market success, at the negotiated price."""
        st = self.state
        np.subtract(1.0, st.discount, out=st.price)
        np.multiply(st.base_demand, st.market_success, out=st.volume)
        st.volume *= self.links.on

    def run_suppliers(self) -> None:
        """Stage 2: book revenue and costs, set budgets (with margin defense), update cash, stocks and standards.

        Suppliers that have exited have no customers (they were moved in stage 4), so every
        flow below is zero for them and their cash and stocks stay as they were.
        """
        st, sp = self.state, self.sp.p
        S = self.n_suppliers
        s = self.links.supplier  # volume is zero for customers without a supplier
        # Cost to serve, cheaper for an engaged customer:
        #   cost_to_serve_i = cost_to_serve_k * q_i * max(0, 1 - engagement_cost_saving_k * (E_i - E_ref))
        # Added service is delivered by the support organisation: an eroded one gives it dearly:
        #   gift_cost_i = gift_cost_ratio_k / max(K_support, floor) * gift_i * q_i
        support = np.maximum(st.capability[:, SUPPORT], SUPPORT_FLOOR)
        serve_total = np.empty(S)
        supplier_books_pass(
            s,
            st.volume,
            st.price,
            st.gift,
            st.engagement,
            self.customer_reference,
            sp["engagement_cost_saving"],
            sp["cost_to_serve"],
            sp["gift_cost_ratio"] / support,
            st.cost_to_serve,
            st.gift_cost,
            st.revenue,
            st.list_revenue,
            serve_total,
            st.gift_cost_total,
        )
        st.cogs[:] = (1.0 - sp["gross_margin"]) * st.list_revenue
        st.overhead[:] = st.overhead_fixed + serve_total
        operating = st.revenue - st.cogs - st.overhead - st.gift_cost_total  # before investment
        plan = sp["spend"] * st.list_revenue[:, None]
        desired = st.standard * plan
        reserve = sp["cash_reserve_months"] * (st.revenue_initial / self.supplier_months)
        crisis = st.cash < reserve
        defense = np.where(crisis, 1.0, sp["margin_defense"])
        # Budgets are cut on the trailing year's shortfall (the published financials), at the pace
        # of budget rounds, so cuts come late and look free at first. In a cash crisis the whole
        # shortfall is cut, against at least break-even (even a supplier used to losses stops them).
        floor = np.where(crisis, np.maximum(st.margin_standard, 0.0), st.margin_standard)
        gap = np.maximum(0.0, floor * st.revenue - (operating - desired.sum(axis=1)))
        st.shortfall_seen += (gap - st.shortfall_seen) * self.reporting_rate
        st.cut += (defense * st.shortfall_seen - st.cut) * self.budget_rate
        cuttable = desired * sp["max_cut"][:, None]
        cuts = distribute_cuts(st.cut, cuttable, self.cut_weights, self.cut_order, self.cut_proportional)
        invest = desired - cuts
        profit = operating - invest.sum(axis=1)
        st.investment[:] = invest
        st.desired_investment[:] = desired
        st.profit[:] = profit
        st.cash += profit
        # The honest ledger: what keeps today's stocks where they are, whatever was spent.
        reference = self.reference_spend * st.list_revenue[:, None]
        st.sustaining_investment[:] = st.capability * reference
        sustained = np.divide(invest, reference, out=np.zeros_like(invest), where=reference > 0)
        # A supplier without customers has no budgets to judge by: its stocks stay as they are.
        trading = (st.list_revenue > 0)[:, None]
        st.capability += trading * toward_asymmetric(st.capability, sustained, self.rebuild_rate, self.capability_rate)
        st.margin[:] = np.divide(profit, st.revenue, out=np.zeros(S), where=st.revenue > 0)
        self._update_standards(invest, plan, trading[:, 0])
        # Overhead is fixed this period and resized toward the business with a lag.
        st.overhead_fixed += (sp["overhead"] * st.list_revenue - st.overhead_fixed) * self.overhead_rate

    def _update_standards(self, invest: np.ndarray, plan: np.ndarray, trading: np.ndarray) -> None:
        """Standards drift toward what is achieved (Oliva & Sterman 2001).

        The service standard is the share of each planned budget the supplier aims to
        spend. Spending below it pulls it down toward what was spent; it is pulled back
        toward the plan while the customers still expect more value than they receive
        (what the supplier cannot afford, margin defense cuts again). Once customers'
        expectations have eroded to what is delivered, nobody asks for the old standard
        back. The target
        margin drifts toward the margin achieved when that falls short, and back toward the
        plan when it does not.
        """
        st, sp = self.state, self.sp.p
        achieved = np.divide(invest, plan, out=st.standard.copy(), where=plan > 0)
        wanted = trading & (st.expectation_ratio > st.received_ratio)
        eroding = np.minimum(achieved - st.standard, 0.0) * self.standard_rate
        restoring = wanted[:, None] * np.maximum(1.0 - st.standard, 0.0) * self.standard_recovery_rate
        st.standard += eroding + restoring
        target = sp["target_margin"]
        goal = np.where(st.margin < st.margin_standard, st.margin, np.minimum(st.margin, target))
        st.margin_standard += trading * (goal - st.margin_standard) * self.margin_standard_rate
        st.margin_reported += trading * (st.margin - st.margin_reported) * self.reporting_rate

    def _update_tables(self) -> None:
        """Value per unit of each (segment, supplier) cell and its co-created part, every market's table."""
        cap = self.state.capability
        if self.uniform:
            stacked = cap.reshape(self.n_members, -1, cap.shape[1]).transpose(0, 2, 1)
            self.value_table = (self._weights @ stacked).reshape(-1)
            self.cocreation_table = (self._coweights @ stacked).reshape(-1)
            return
        self.value_table = np.concatenate(
            [(w @ cap[m.suppliers].T).ravel() for w, m in zip(self._weights, self.markets, strict=True)]
        )
        self.cocreation_table = np.concatenate(
            [(w @ cap[m.suppliers].T).ravel() for w, m in zip(self._coweights, self.markets, strict=True)]
        )

    def update_customers(self) -> None:
        """Stage 3: delivered value, own market success, the ledger, trust, engagement, co-creation.

        Per customer (one compiled pass, :func:`sim.kernels.customer_pass`; docs/model.md
        section 3 has the equations): the value delivered from its (segment, supplier) cell
        of the value table, the perceived value and expectation that follow it, the ledger of
        the relationship (V_c, contribution, the investment that sustains what it receives,
        V_s), the balance index, trust, engagement and co-creation; and per supplier what its
        customers expect and receive relative to baseline. Then (numpy) the customer's own
        market success, which follows the value received.
        """
        st, sp, cp = self.state, self.sp.p, self.cp.p
        links = self.links
        self._update_tables()
        # The investment that sustains what each supplier's accounts receive, per unit of volume.
        sustain_per_unit = np.divide(
            st.sustaining_investment.sum(axis=1),
            st.list_revenue,
            out=np.zeros(self.n_suppliers),
            where=st.list_revenue > 0,
        )
        rate = self.rate
        customer_pass(
            links.cell,
            links.on,
            links.supplier,
            self.value_table,
            self.cocreation_table,
            cp["value_visibility"],
            self.inverse_baseline_value,
            rate["perception_lag"],
            rate["expectation_lag"],
            rate["trust_lag"],
            rate["trust_loss_lag"],
            rate["engagement_lag"],
            rate["cocreation_lag"],
            self.customer_smoothing,
            self.band[0],
            self.band[1],
            cp["trust_tolerance"],
            cp["engagement"],
            cp["cocreation_gain"],
            self.customer_reference,
            sp["gross_margin"],
            sustain_per_unit,
            sp["engagement_value"],
            np.ascontiguousarray(st.capability[:, SALES]),
            st.list_revenue,
            st.volume,
            st.price,
            st.gift,
            st.cost_to_serve,
            st.gift_cost,
            st.pending_cost,
            st.redesign_cost,
            st.redesign_left,
            st.value,
            st.perceived_value,
            st.expectation,
            st.transaction_cost,
            st.customer_value,
            st.contribution,
            st.sustaining_cost,
            st.supplier_value,
            st.balance_smoothed,
            st.trust,
            st.engagement,
            st.cocreation,
            st.negative_value_periods,
            st.expectation_ratio,
            st.received_ratio,
        )
        # Own market success follows the value received: G* = (u / u_baseline) ** elasticity.
        ratio = st.value * self.inverse_baseline_value
        with np.errstate(divide="ignore", invalid="ignore"):  # (ratio ** e, cheaper; no value: no success)
            sustained = np.where(ratio > 0, np.exp(cp["elasticity"] * np.log(ratio)), 0.0)
        st.market_success += (sustained - st.market_success) * rate["market_lag"]

    def renew_contracts(self) -> None:
        """Stage 4: insolvencies and exits, then renewals (negotiation with parity), then switching.

        A supplier that exits discontinues its products, and so does one that drops an
        account (walk-away): either way the customer must switch and redesign.
        """
        st, sp = self.state, self.sp.p
        t = self.period
        # Exits: negative cash for insolvency_periods in a row.
        st.negative_cash_periods[:] = np.where(st.active & (st.cash < 0), st.negative_cash_periods + 1, 0)
        exiting = st.active & (st.negative_cash_periods >= sp["insolvency_periods"])
        orphaned = np.empty(0, dtype=np.int64)
        if exiting.any():
            st.active[exiting] = False
            st.exit_period[exiting] = t
            st.overhead_fixed[exiting] = 0.0
            for i in np.flatnonzero(exiting):
                m = self.markets[self.sup_member[i]]
                local = int(i - self.sup_start[m.index])
                name = m.sp.group_names[m.sp.group[local]]
                m.events.append((t, f"supplier {local + 1} ({name}) became insolvent and discontinued its products"))
            served = st.supplier >= 0
            orphaned = np.flatnonzero(served & exiting[self.links.supplier])
        renewing = self.renewal_phase[t % self.cycle]
        renewing = renewing[st.supplier[renewing] >= 0]
        if orphaned.size:
            renewing = renewing[st.active[self.links.supplier[renewing]]]
        # Walk-away ("fire the customer"): the supplier drops accounts that kept destroying value for it.
        dropped = st.negative_value_periods[renewing] >= sp["walk_away_periods"][self.links.supplier[renewing]]
        if dropped.any():
            counts = np.bincount(self.cust_member[renewing[dropped]], minlength=self.n_members)
            for r in np.flatnonzero(counts):
                m = self.markets[r]
                m.accounts_dropped += int(counts[r])
                what = f"{int(counts[r])} account(s) dropped by their supplier"
                m.events.append((t, f"{what} (they destroyed value for it for too long: fire the customer)"))
        negotiating = renewing[~dropped]
        forced = np.concatenate([orphaned, renewing[dropped]])
        choosing = np.concatenate([negotiating, forced])
        if not choosing.size:
            return
        # Alternatives are assessed once, at the start of the renewal round.
        quotes = self._quotes()
        alternatives = self._alternatives(choosing, st.supplier[choosing], quotes)
        n = negotiating.size
        if n:
            self._negotiate(negotiating, alternatives[:, :n])
        is_forced = np.arange(choosing.size) >= n
        is_dropped = np.arange(choosing.size) >= n + orphaned.size
        self._switch(choosing, alternatives, is_forced, is_dropped, quotes)

    def _negotiate(self, idx: np.ndarray, alternatives: np.ndarray) -> None:
        st, sp, cp = self.state, self.sp.p, self.cp.p
        n = len(idx)
        terms, s = np.empty((len(TERMS), n)), np.empty(n, dtype=np.int64)
        renewal_terms_pass(
            idx,
            self.links.supplier,
            self.network.by_customer,
            st.supplier,
            *(cp[name] for name in DEMAND_LEVERS),
            st.discount,
            st.gift,
            st.perceived_value,
            st.price,
            st.market_success,
            st.volume,
            st.cost_to_serve,
            st.engagement,
            cp["value_visibility"],
            st.value,
            st.demand,
            st.margin_reported,
            sp["gross_margin"],
            sp["concession_rate"],
            sp["explain_rate"],
            sp["concession_exponent"],
            alternatives,
            float(self.cycle),
            np.nan if self.demand_override is None else float(self.demand_override),
            terms,
            s,
        )
        ctx = NegotiationContext(
            **dict(zip(TERMS, terms, strict=True)),
            engagement_reference=self.engagement_reference,
            list_price=np.ones(n),
            rounds=self.rounds,
        )
        discount, gift, perceived = ctx.discount, ctx.gift, ctx.perceived
        deal = Settlement(discount.copy(), gift.copy(), ctx.visibility.copy(), perceived.copy())
        # Markets that negotiate differently (rounds, engagement reference) settle apart.
        terms = self.rounds_of * 1e6 + self.reference if self.n_members > 1 else None
        kinds = [None] if terms is None or (terms == terms[0]).all() else np.unique(terms).tolist()
        for kind in kinds:
            if kind is None:
                part, rows = ctx, None
            else:
                rows = terms[self.cust_member[idx]] == kind
                r = int(np.flatnonzero(terms == kind)[0])
                part = ctx.subset(rows)
                part.rounds, part.engagement_reference = int(self.rounds_of[r]), float(self.reference[r])
            self._settle(part, s if rows is None else s[rows], deal, rows)
        ratchet = self.market_lever["ratchet"][self.cust_member[idx]]
        st.discount[idx] = np.clip(_ratchet(discount, deal.discount, ratchet), 0.0, MAX_DISCOUNT)
        st.gift[idx] = np.maximum(_ratchet(gift, deal.gift, ratchet), 0.0)
        cp["value_visibility"][idx] = np.clip(deal.visibility, 0.0, 1.0)
        st.perceived_value[idx] = deal.perceived
        st.price[idx] = 1.0 - st.discount[idx]

    def _settle(self, ctx: NegotiationContext, s: np.ndarray, deal: Settlement, rows: np.ndarray | None) -> None:
        """Each supplier's strategy answers its own relationships; the settlements go into ``deal``."""
        for name, strategy in self.strategies.items():
            mine = self.strategy_rows[name][s]
            if not mine.any():
                continue
            part = strategy.negotiate(ctx if mine.all() else ctx.subset(mine))
            if rows is None:
                deal.update(mine, part)
            else:
                where = np.flatnonzero(rows)[mine]
                deal.update(where, part)

    def _utility(self, idx: np.ndarray, net_value: np.ndarray) -> np.ndarray:
        """Value of a contract to the buyer: net value per unit over one contract cycle."""
        return self.cycle * net_value

    def _quotes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each supplier's terms for a rival's customer (discount, gift per unit), decided by its strategy.

        The going terms are the volume-weighted average of what its own customers get; a
        supplier without customers quotes list price.
        """
        st, sp = self.state, self.sp.p
        s, on = self.links.supplier, self.links.on
        going_discount, going_gift = np.zeros(self.n_suppliers), np.zeros(self.n_suppliers)
        going_terms_pass(s, st.base_demand * on, st.discount, st.gift, going_discount, going_gift)
        discount, gift = np.zeros(self.n_suppliers), np.zeros(self.n_suppliers)
        for name, strategy in self.strategies.items():
            rows = self.strategy_rows[name]
            discount[rows], gift[rows] = strategy.quote(
                going_discount[rows], going_gift[rows], sp["acquisition_discount"][rows]
            )
        return np.clip(discount, 0.0, MAX_DISCOUNT), np.maximum(gift, 0.0)

    def _alternatives(self, idx: np.ndarray, current: np.ndarray, quotes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Utility of each option for customers ``idx``: (S + 2, n), -inf where unavailable.

        Row 0 is left for staying (filled at the switching step), rows 1..S are the
        suppliers of the customer's market on the terms they quote a new customer, row S + 1
        is leaving the market (S: the most suppliers a market has; a market with fewer has
        unavailable rows in between). A new relationship starts without co-created value
        (see :meth:`_fresh_cocreation`). Options are rows and customers columns, so
        per-customer maxima reduce across a few contiguous rows.
        """
        st, cp = self.state, self.cp.p
        options = np.empty((int(self.sup_count.max()) + 2, len(idx)))
        alternatives_pass(
            idx,
            current,
            self.cust_member,
            self.sup_count,
            self.cust_sup0,
            self.cust_table,
            cp["value_visibility"],
            cp["switching_cost"],
            cp["cocreation_gain"],
            cp["engagement"],
            self.customer_reference,
            np.ascontiguousarray(st.capability[:, SALES]),
            st.active,
            self.value_table,
            self.cocreation_table,
            quotes[0],
            quotes[1],
            self.market_lever["outside_option"],
            float(self.cycle),
            options,
        )
        return options

    def _fresh_cocreation(self, customers: np.ndarray, suppliers: np.ndarray) -> np.ndarray:
        """Co-creation a new relationship starts with: nothing built yet, but a buyer who engages
        below the reference (price-only) takes value away from the first day."""
        cp = self.cp.p
        coverage = self.state.capability[suppliers, SALES]
        return fresh_cocreation(
            cp["cocreation_gain"][customers], cp["engagement"][customers], coverage, self.customer_reference[customers]
        )

    def _switch(
        self,
        idx: np.ndarray,
        alternatives: np.ndarray,
        forced: np.ndarray,
        dropped: np.ndarray,
        quotes: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Renewing customers choose among staying, rivals and leaving; ``forced`` ones cannot stay.

        A forced move (an exit or a dropped account) means the product is discontinued, so the
        customer also redesigns; a dropped account is a relationship ended by the supplier.
        """
        st, cp = self.state, self.cp.p
        options = alternatives
        options[0] = np.where(forced, -np.inf, self._utility(idx, st.perceived_value[idx] - st.price[idx]))
        member = self.cust_member[idx]
        if self.streams is None:
            choice = choose_suppliers(options, cp["choice_temperature"][idx], self.rng)
        else:
            choice = choose_suppliers(options, cp["choice_temperature"][idx], self.streams, member, self.options)
        moving = choice > 0
        self.recorder.note_dropped(member[dropped])
        if not moving.any():
            return
        rows = idx[moving]
        S = options.shape[0] - 2
        picked = choice[moving] - 1  # 0..S-1 a supplier, S = leave the market
        leaving = picked == S
        t = self.period
        st.pending_cost[rows] += cp["switching_cost"][rows] * st.base_demand[rows] * st.market_success[rows]
        dev_budget = cp["development_budget"][rows] * st.base_demand[rows]
        redesigning = forced[moving]
        st.redesign_cost[rows[redesigning]] = (cp["redesign_share"][rows] * dev_budget)[redesigning]
        st.redesign_left[rows[redesigning]] = cp["redesign_periods"][rows[redesigning]].astype(np.int64)
        new_supplier = np.where(leaving, -1, picked)
        won = new_supplier >= 0
        start = self.cust_sup0[rows]
        st.customers_acquired += np.bincount((start + new_supplier)[won], minlength=self.n_suppliers)
        st.supplier[rows] = new_supplier
        winner = np.maximum(new_supplier, 0)
        rival = start + winner
        st.discount[rows] = np.where(won, quotes[0][rival], 0.0)
        st.gift[rows] = np.where(won, quotes[1][rival], 0.0)
        st.cocreation[rows] = np.where(won, self._fresh_cocreation(rows, rival), 0.0)
        rival_value = self.value_table[self.cust_table[rows] + winner] + st.gift[rows]
        st.perceived_value[rows] = np.where(won, cp["value_visibility"][rows] * rival_value, 0.0)
        st.trust[rows] = 1.0
        st.balance_smoothed[rows] = self.band_middle[self.cust_member[rows]]
        st.negative_value_periods[rows] = 0
        st.relationship_start[rows] = t + 1
        st.price[rows] = 1.0 - st.discount[rows]
        self._links = None
        self.recorder.note_moves(np.where(dropped[moving], -2, new_supplier), redesigning, member[moving])
        if leaving.any():
            counts = np.bincount(member[moving][leaving], minlength=self.n_members)
            for r in np.flatnonzero(counts):
                self.markets[r].events.append(
                    (t, f"{int(counts[r])} customer(s) left the market (no acceptable supplier)")
                )

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
        if self.uniform:
            self._weights, self._coweights = np.stack(self._weights), np.stack(self._coweights)
        sizes = n_groups * n_sup
        self.table_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.table_size = int(sizes.sum())
        self.table_shape = (int(n_groups[0]), int(n_sup[0])) if len(markets) == 1 else (self.table_size,)
        self.value_table = np.zeros(self.table_size)
        self.cocreation_table = np.zeros(self.table_size)

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
)
_CUSTOMER_ROWS = ("inverse_baseline_value", "customer_reference", "customer_smoothing")
_MARKET_VALUES = ("smoothing_rate", "reference", "band_middle", "rounds_of")
_NOT_SHARED = frozenset({"step", "random", "scenario", "data_registry"})  # Mesa's, bound to the original


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


def _ratchet(old: np.ndarray, new: np.ndarray, ratchet: np.ndarray | float) -> np.ndarray:
    """A concession may rise freely; a fall keeps ``ratchet`` of the old level (1 = sticky)."""
    return np.where(new < old, old - (1.0 - ratchet) * (old - new), new)
