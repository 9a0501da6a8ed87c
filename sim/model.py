"""ProcurementModel: the value-exchange market as a Mesa model (MODEL-SPEC sections 2-6).

Each period runs five stages in a fixed order (MODEL-SPEC section 5):

1. ``place_orders``       customers order from their current supplier (base demand x G);
2. ``run_suppliers``      suppliers book revenue and costs, set budgets, update cash and capabilities;
3. ``update_customers``   customers update delivered value, market success, the ledger, trust, engagement;
4. ``renew_contracts``    exits, renewals: negotiation, parity over the peer network, switching;
5. ``record``             the recorder stores model- and agent-level series.

Within a stage every agent updates from the same state (synchronous, vectorised with
numpy), so activation order cannot bias results; every random draw comes from
``self.rng``, seeded by ``rng=``, so a seed fixes a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from .accounts import peer_edges, place_accounts
from .agents import Customer, Supplier
from .capabilities import INNOVATION, SALES, SUPPORT, distribute_cuts
from .customers import balance_index, procurement_demand, trust_target
from .delays import toward_asymmetric
from .negotiation import NegotiationContext, Settlement
from .network import PeerNetwork
from .population import PROCUREMENT_LEVERS, Timetable, build_customers, build_suppliers, market_levers
from .recorder import Recorder
from .scenario import Scenario
from .schedule import Schedule
from .state import MarketState
from .strategies import SUPPLIER_STRATEGIES
from .switching import choose_suppliers

MAX_DISCOUNT = 0.95  # hard physical cap on any discount, far above every documented bound
# Support capability below which added service costs no more (a floor that keeps gift costs finite).
SUPPORT_FLOOR = 0.1


class ProcurementModel(mesa.Model):
    """Suppliers and customers exchanging value; see the module docstring for the step order."""

    def __init__(
        self, scenario: Scenario | None = None, *, rng: int | None = None, record_agents_every: int = 1
    ) -> None:
        scenario = scenario if scenario is not None else Scenario()
        seed = scenario.seed if rng is None else int(rng)
        super().__init__(rng=seed)
        self.seed = seed
        self.config = scenario
        self.periods = scenario.periods
        self.period = 0
        self.months_per_period = 12.0 / scenario.periods_per_year
        market = scenario.market
        self.cycle = market.contract_cycle
        self.rounds = market.negotiation_rounds
        self.fair_band = tuple(market.fair_band)
        self.smoothing = market.balance_smoothing
        self.engagement_reference = market.engagement_reference

        # Parameters as arrays, lever schedules as a timetable.
        self.timetable = Timetable()
        self.sp = build_suppliers(scenario.suppliers, self.timetable)
        self.cp, base_demand = build_customers(scenario.customers, scenario.periods_per_year, self.timetable, self.rng)
        self.market_lever: dict[str, float] = {}
        for name, lever in market_levers(scenario).items():
            self.market_lever[name] = lever.initial if isinstance(lever, Schedule) else float(lever)
            if isinstance(lever, Schedule):
                self.timetable.add(lever, lambda v, n=name: self.market_lever.__setitem__(n, v))
        # Value weights are set per customer group (segment), so values are looked up in
        # (group x supplier) tables instead of being summed per customer.
        self.group_weights = np.array([g.value_weights.as_list() for g in scenario.customers])
        self.cocreation_weights = self.group_weights * np.isin(np.arange(4), [INNOVATION, SUPPORT])
        self.value_table = np.zeros((len(scenario.customers), 0))
        baseline_value = self.cp.p["value_weights"].sum(axis=1)
        self.inverse_baseline_value = np.divide(
            1.0, baseline_value, out=np.zeros_like(baseline_value), where=baseline_value > 0
        )
        # Adjustment rates (1 / lag) of the first-order delays; lags are not levers.
        self.capability_rate = 1.0 / self.sp.p["capability_lag"]
        self.rebuild_rate = 1.0 / self.sp.p["rebuild_lag"]
        self.standard_rate = 1.0 / self.sp.p["standard_lag"][:, None]
        self.standard_recovery_rate = 1.0 / self.sp.p["standard_recovery_lag"][:, None]
        self.margin_standard_rate = 1.0 / self.sp.p["margin_standard_lag"]
        self.budget_rate = 1.0 / self.sp.p["budget_lag"]
        self.reporting_rate = 1.0 / scenario.periods_per_year  # published financials cover a year
        self.overhead_rate = 1.0 / self.sp.p["overhead_lag"]
        # Sequential cut orders only where a group asked for one (None: all share by weights).
        self.cut_order = self.sp.cut_order if (self.sp.cut_order >= 0).any() else None
        weights = self.sp.p["cut_weights"]
        self.cut_weights = None if (weights == weights[:, :1]).all() else weights  # None: equal weights
        self.rate = {
            name: 1.0 / self.cp.p[name]
            for name in (
                "perception_lag",
                "market_lag",
                "trust_lag",
                "trust_loss_lag",
                "engagement_lag",
                "expectation_lag",
                "cocreation_lag",
            )
        }
        # Spend shares at period 0 are the budgets that sustain capability 1.0.
        self.reference_spend = self.sp.p["spend"].copy()
        self.strategies = {name: SUPPLIER_STRATEGIES[name]() for name in sorted(set(self.sp.strategy))}
        self.strategy_rows = {name: np.array([s == name for s in self.sp.strategy]) for name in self.strategies}

        n_s, n_c = len(self.sp.strategy), len(base_demand)
        self.n_suppliers, self.n_customers = n_s, n_c
        self.state = st = MarketState.empty(n_s, n_c)
        self._links: Links | None = None
        self._initialise_state(base_demand)
        self.network = PeerNetwork.build(
            n_c, market.network.kind, market.network.degree, market.network.rewire, self.rng, peer_edges(scenario)
        )

        self.supplier_agents = [
            Supplier(self, i, self.sp.group_names[g], self.sp.strategy[i]) for i, g in enumerate(self.sp.group)
        ]
        self.customer_agents = [Customer(self, i, self.cp.group_names[g]) for i, g in enumerate(self.cp.group)]
        self.recorder = Recorder(self, record_agents_every)
        self.datacollector = self.recorder  # Mesa's DataCollector API, vectorised
        self.events: list[tuple[int, str]] = []  # (period, plain-language event) for reports
        self.accounts_dropped = 0  # accounts fired by their supplier (walk-away)
        # The negotiation game: a procurement team's demanded level replaces the demand formula.
        self.demand_override: float | None = None
        del st

    # ------------------------------------------------------------------ set-up

    def _initialise_state(self, base_demand: np.ndarray) -> None:
        st, sp = self.state, self.sp.p
        st.base_demand[:] = base_demand
        share = sp["share"]
        st.supplier[:] = self.rng.choice(self.n_suppliers, size=self.n_customers, p=share / share.sum())
        offsets = self.rng.integers(0, self.cycle, self.n_customers) if self.config.market.stagger_contracts else 0
        st.offset[:] = offsets
        place_accounts(self)  # named accounts: revenue, discount, renewal, supplier; grants on the timetable
        # Customers renewing in each phase of the contract cycle (their offsets never change).
        self.renewal_phase = [np.flatnonzero(st.offset == phase) for phase in range(self.cycle)]
        st.market_success[:] = 1.0
        st.trust[:] = 1.0
        st.engagement[:] = self.cp.p["engagement"]
        st.balance_smoothed[:] = 0.5 * (self.fair_band[0] + self.fair_band[1])
        st.active[:] = True
        st.exit_period[:] = -1
        st.capability[:] = sp["initial_capability"][:, None]
        # Standards start at the plan: the budgets the supplier aims for and the margin it defends.
        st.standard[:] = 1.0
        st.margin_standard[:] = sp["target_margin"]
        st.expectation_ratio[:] = 1.0
        st.received_ratio[:] = sp["initial_capability"]
        book = np.bincount(st.supplier, weights=st.base_demand, minlength=self.n_suppliers)
        st.revenue_initial[:] = book
        st.overhead_fixed[:] = sp["overhead"] * book
        st.cash[:] = sp["cash_months"] / self.months_per_period * book
        st.customers_initial[:] = np.bincount(st.supplier, minlength=self.n_suppliers)
        st.margin[:] = sp["target_margin"]
        st.margin_reported[:] = sp["target_margin"]
        baseline_value = self.cp.p["value_weights"].sum(axis=1)
        # Customers expect what a supplier at full capability delivers, whatever state it starts in.
        st.expectation[:] = baseline_value
        st.value[:] = baseline_value * sp["initial_capability"][st.supplier]
        st.perceived_value[:] = self.cp.p["value_visibility"] * st.value

    # ------------------------------------------------------------------ the period

    def step(self) -> None:
        """Advance one period through the five stages."""
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
        st.price[:] = 1.0 - st.discount
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
        vol = st.volume
        saving = 1.0 - sp["engagement_cost_saving"][s] * (st.engagement - self.engagement_reference)
        st.cost_to_serve[:] = sp["cost_to_serve"][s] * vol * np.maximum(saving, 0.0)
        # Added service is delivered by the support organisation: an eroded one gives it dearly.
        support = np.maximum(st.capability[:, SUPPORT], SUPPORT_FLOOR)
        st.gift_cost[:] = (sp["gift_cost_ratio"] / support)[s] * st.gift * vol
        st.revenue[:] = np.bincount(s, weights=st.price * vol, minlength=S)
        st.list_revenue[:] = np.bincount(s, weights=vol, minlength=S)
        st.cogs[:] = (1.0 - sp["gross_margin"]) * st.list_revenue
        st.overhead[:] = st.overhead_fixed + np.bincount(s, weights=st.cost_to_serve, minlength=S)
        st.gift_cost_total[:] = np.bincount(s, weights=st.gift_cost, minlength=S)
        operating = st.revenue - st.cogs - st.overhead - st.gift_cost_total  # before investment
        plan = sp["spend"] * st.list_revenue[:, None]
        desired = st.standard * plan
        reserve = sp["cash_reserve_months"] * (st.revenue_initial / self.months_per_period)
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
        invest = desired - distribute_cuts(st.cut, cuttable, self.cut_weights, self.cut_order)
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

    def update_customers(self) -> None:
        """Stage 3: delivered value, own market success, the ledger, trust, engagement, co-creation."""
        st, sp, cp = self.state, self.sp.p, self.cp.p
        links = self.links
        on, s, cell = links.on, links.supplier, links.cell
        self.value_table = self.group_weights @ st.capability.T
        cocreation_table = self.cocreation_weights @ st.capability.T
        value = (
            self.value_table.ravel()[cell] + cocreation_table.ravel()[cell] * np.maximum(st.cocreation, -1.0) + st.gift
        ) * on
        st.value[:] = value
        st.perceived_value += (cp["value_visibility"] * value - st.perceived_value) * self.rate["perception_lag"]
        st.expectation += (value - st.expectation) * self.rate["expectation_lag"] * on
        ratio = value * self.inverse_baseline_value
        with np.errstate(divide="ignore", invalid="ignore"):  # (ratio ** e, cheaper; no value: no success)
            sustained = np.where(ratio > 0, np.exp(cp["elasticity"] * np.log(ratio)), 0.0)
        st.market_success += (sustained - st.market_success) * self.rate["market_lag"]
        # What each supplier's customers expect and receive, relative to baseline (volume-weighted).
        weight = st.volume * self.inverse_baseline_value
        for out, per_customer in ((st.expectation_ratio, st.expectation), (st.received_ratio, value)):
            total = np.bincount(s, weights=weight * per_customer, minlength=self.n_suppliers)
            np.divide(total, st.list_revenue, out=out, where=st.list_revenue > 0)

        # Ledger (MODEL-SPEC section 3), per relationship.
        redesigning = st.redesign_left > 0
        st.transaction_cost[:] = st.pending_cost + st.redesign_cost * redesigning
        st.redesign_left -= redesigning
        st.pending_cost[:] = 0.0
        unit_cost = 1.0 - sp["gross_margin"][s]
        st.customer_value[:] = (value - st.price) * st.volume - st.transaction_cost
        st.contribution[:] = ((st.price - unit_cost) * st.volume - st.cost_to_serve - st.gift_cost) * on
        # The investment that sustains what this account receives, shared by volume.
        sustain_per_unit = np.divide(
            st.sustaining_investment.sum(axis=1),
            st.list_revenue,
            out=np.zeros(self.n_suppliers),
            where=st.list_revenue > 0,
        )
        st.sustaining_cost[:] = sustain_per_unit[s] * st.volume
        st.supplier_value[:] = (
            st.contribution - st.sustaining_cost + sp["engagement_value"][s] * st.engagement * st.volume
        )
        balance = balance_index(st.supplier_value, st.customer_value)
        st.balance_smoothed += self.smoothing * (balance - st.balance_smoothed) * on

        target = trust_target(st.balance_smoothed, self.fair_band, cp["trust_tolerance"])
        st.trust += toward_asymmetric(st.trust, target, self.rate["trust_lag"], self.rate["trust_loss_lag"]) * on
        st.engagement += (cp["engagement"] * st.trust - st.engagement) * self.rate["engagement_lag"] * on
        coverage = st.capability[:, SALES][s]
        # Co-creation needs the customer's engagement and the supplier's sales people's time.
        goal = cp["cocreation_gain"] * (st.engagement * coverage - self.engagement_reference)
        st.cocreation += (goal - st.cocreation) * self.rate["cocreation_lag"] * on
        st.negative_value_periods[:] = (st.negative_value_periods + 1) * (st.supplier_value < 0)

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
                self.events.append(
                    (
                        t,
                        f"supplier {self.supplier_agents[i].unique_id} ({self.sp.group_names[self.sp.group[i]]}) "
                        "became insolvent and discontinued its products",
                    )
                )
            served = st.supplier >= 0
            orphaned = np.flatnonzero(served & exiting[np.where(served, st.supplier, 0)])
        renewing = self.renewal_phase[t % self.cycle]
        renewing = renewing[st.supplier[renewing] >= 0]
        if orphaned.size:
            renewing = renewing[st.active[st.supplier[renewing]]]
        # Walk-away ("fire the customer"): the supplier drops accounts that kept destroying value for it.
        dropped = st.negative_value_periods[renewing] >= sp["walk_away_periods"][st.supplier[renewing]]
        if dropped.any():
            self.accounts_dropped += int(dropped.sum())
            self.events.append(
                (
                    t,
                    f"{int(dropped.sum())} account(s) dropped by their supplier (they destroyed value for it "
                    "for too long: fire the customer)",
                )
            )
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
        s = st.supplier[idx]
        parity = cp["parity_pressure"][idx] > 0
        peers = np.zeros(len(idx))
        if parity.any():
            peers[parity] = self.network.best_peer_discount(st.discount, st.supplier, idx[parity])
        levers = dict(zip(PROCUREMENT_LEVERS, self.cp.procurement[:, idx], strict=True))
        st.demand[idx] = demand = procurement_demand(
            levers,
            perceived_value=st.perceived_value[idx],
            price=st.price[idx],
            market_success=st.market_success[idx],
            supplier_margin=st.margin_reported[s],
            best_peer_discount=peers,
        )
        if self.demand_override is not None:
            st.demand[idx] = demand = np.full(len(idx), self.demand_override)
        discount, gift, perceived = st.discount[idx], st.gift[idx], st.perceived_value[idx]
        level = discount + gift
        # Buyer's reservation: the concession that would make staying as good as its best alternative.
        current = self._utility(idx, perceived - st.price[idx])
        best = alternatives.max(axis=0)  # row 0 (staying) is still -inf here
        reservation = np.minimum(level + np.maximum(best - current, 0.0) / self.cycle, demand)
        # Supplier's ceiling: the discount at which the account stops covering unit cost and cost to serve.
        volume = st.volume[idx]
        serve = np.divide(st.cost_to_serve[idx], volume, out=np.zeros(len(idx)), where=volume > 0)
        ceiling = np.maximum(sp["gross_margin"][s] - serve, 0.0)
        ctx = NegotiationContext(
            level=level,
            discount=discount,
            gift=gift,
            demand=demand,
            reservation=reservation,
            ceiling=ceiling,
            engagement=st.engagement[idx],
            engagement_reference=self.engagement_reference,
            visibility=cp["value_visibility"][idx],
            perceived=perceived,
            value=st.value[idx],
            concession_rate=sp["concession_rate"][s],
            explain_rate=sp["explain_rate"][s],
            exponent=sp["concession_exponent"][s],
            list_price=np.ones(len(idx)),
            rounds=self.rounds,
        )
        deal = None
        for name, strategy in self.strategies.items():
            mine = self.strategy_rows[name][s]
            if not mine.any():
                continue
            everyone = mine.all()
            part = strategy.negotiate(ctx if everyone else ctx.subset(mine))
            if everyone:
                deal = part
                break
            if deal is None:
                deal = Settlement(discount.copy(), gift.copy(), ctx.visibility.copy(), perceived.copy())
            deal.update(mine, part)
        ratchet = self.market_lever["ratchet"]
        st.discount[idx] = np.clip(_ratchet(discount, deal.discount, ratchet), 0.0, MAX_DISCOUNT)
        st.gift[idx] = np.maximum(_ratchet(gift, deal.gift, ratchet), 0.0)
        cp["value_visibility"][idx] = np.clip(deal.visibility, 0.0, 1.0)
        st.perceived_value[idx] = deal.perceived
        st.price[idx] = 1.0 - st.discount[idx]

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
        weight = st.base_demand * on
        book = np.bincount(s, weights=weight, minlength=self.n_suppliers)
        going_discount = np.divide(
            np.bincount(s, weights=weight * st.discount, minlength=self.n_suppliers),
            book,
            out=np.zeros(self.n_suppliers),
            where=book > 0,
        )
        going_gift = np.divide(
            np.bincount(s, weights=weight * st.gift, minlength=self.n_suppliers),
            book,
            out=np.zeros(self.n_suppliers),
            where=book > 0,
        )
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
        suppliers on the terms they quote a new customer, row S + 1 is leaving the market.
        A new relationship starts without co-created value (see :meth:`_fresh_cocreation`).
        Options are rows and customers columns, so per-customer maxima reduce across a few
        contiguous rows.
        """
        st, cp = self.state, self.cp.p
        S, n = self.n_suppliers, len(idx)
        visibility = cp["value_visibility"][idx]
        switching = cp["switching_cost"][idx]
        quote_discount, quote_gift = quotes
        options = np.empty((S + 2, n))
        rivals = options[1 : S + 1]
        group = self.cp.group[idx]
        fresh = self._fresh_cocreation(idx[None, :], np.arange(S)[:, None])
        value = self.value_table.T[:, group] + (self.cocreation_weights @ st.capability.T).T[:, group] * fresh
        np.multiply(visibility, value + quote_gift[:, None], out=rivals)
        rivals -= (1.0 - quote_discount)[:, None]
        rivals *= self.cycle
        rivals -= switching
        rivals[~st.active] = -np.inf
        rivals[current, np.arange(n)] = -np.inf
        options[S + 1] = self.cycle * self.market_lever["outside_option"] - switching
        options[0] = -np.inf
        return options

    def _fresh_cocreation(self, customers: np.ndarray, suppliers: np.ndarray) -> np.ndarray:
        """Co-creation a new relationship starts with: nothing built yet, but a buyer who engages
        below the reference (price-only) takes value away from the first day."""
        cp = self.cp.p
        coverage = self.state.capability[suppliers, SALES]
        goal = cp["cocreation_gain"][customers] * (cp["engagement"][customers] * coverage - self.engagement_reference)
        return np.minimum(goal, 0.0)

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
        choice = choose_suppliers(options, cp["choice_temperature"][idx], self.rng)
        moving = choice > 0
        self.recorder.note_dropped(int(dropped.sum()))
        if not moving.any():
            return
        rows = idx[moving]
        picked = choice[moving] - 1  # 0..S-1 a supplier, S = leave the market
        leaving = picked == self.n_suppliers
        t = self.period
        st.pending_cost[rows] += cp["switching_cost"][rows] * st.base_demand[rows] * st.market_success[rows]
        dev_budget = cp["development_budget"][rows] * st.base_demand[rows]
        redesigning = forced[moving]
        st.redesign_cost[rows[redesigning]] = (cp["redesign_share"][rows] * dev_budget)[redesigning]
        st.redesign_left[rows[redesigning]] = cp["redesign_periods"][rows[redesigning]].astype(np.int64)
        new_supplier = np.where(leaving, -1, picked)
        won = new_supplier >= 0
        st.customers_acquired += np.bincount(new_supplier[won], minlength=self.n_suppliers)
        st.supplier[rows] = new_supplier
        winner = np.maximum(new_supplier, 0)
        st.discount[rows] = np.where(won, quotes[0][winner], 0.0)
        st.gift[rows] = np.where(won, quotes[1][winner], 0.0)
        st.cocreation[rows] = np.where(won, self._fresh_cocreation(rows, winner), 0.0)
        rival_value = self.value_table[self.cp.group[rows], winner] + st.gift[rows]
        st.perceived_value[rows] = np.where(won, cp["value_visibility"][rows] * rival_value, 0.0)
        st.trust[rows] = 1.0
        st.balance_smoothed[rows] = 0.5 * (self.fair_band[0] + self.fair_band[1])
        st.negative_value_periods[rows] = 0
        st.relationship_start[rows] = t + 1
        st.price[rows] = 1.0 - st.discount[rows]
        self._links = None
        self.recorder.note_moves(np.where(dropped[moving], -2, new_supplier), redesigning)
        if leaving.any():
            self.events.append((t, f"{int(leaving.sum())} customer(s) left the market (no acceptable supplier)"))

    @property
    def links(self) -> Links:
        """Who buys from whom, in the forms the stages use; rebuilt only after customers move."""
        if self._links is None:
            self._links = Links.of(
                self.state.supplier, self.state.base_demand, self.cp.group, self.n_suppliers, len(self.group_weights)
            )
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
    """The customer-supplier links: served mask, supplier index (0 for none), (group, supplier) cell."""

    served: np.ndarray
    on: np.ndarray  # served as 0.0 / 1.0, to switch flows off without masking
    supplier: np.ndarray  # supplier index, 0 where there is none (its flows are zero anyway)
    cell: np.ndarray  # group * S + supplier, for (group x supplier) tables
    base: np.ndarray  # (groups, S) base demand served in each cell

    @classmethod
    def of(
        cls, supplier: np.ndarray, base_demand: np.ndarray, group: np.ndarray, n_suppliers: int, n_groups: int
    ) -> Links:
        served = supplier >= 0
        s = np.where(served, supplier, 0)
        cell = group * n_suppliers + s
        base = np.bincount(cell, weights=base_demand * served, minlength=n_groups * n_suppliers)
        return cls(served, served.astype(float), s, cell, base.reshape(n_groups, n_suppliers))


def _ratchet(old: np.ndarray, new: np.ndarray, ratchet: float) -> np.ndarray:
    """A concession may rise freely; a fall keeps ``ratchet`` of the old level (1 = sticky)."""
    return np.where(new < old, old - (1.0 - ratchet) * (old - new), new)
