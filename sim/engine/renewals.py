"""Stage 4 of a period: exits and walk-away, renewal negotiations with parity, and switching."""

from __future__ import annotations

import numpy as np

from sim.engine.capabilities import SALES, SUPPORT
from sim.engine.customers import DEMAND_LEVERS, fresh_cocreation
from sim.engine.kernels import TERMS, alternatives_pass, going_terms_pass, renewal_terms_pass
from sim.engine.negotiation import NegotiationContext, Settlement
from sim.engine.recorder import move_reasons
from sim.engine.stages import SUPPORT_FLOOR
from sim.engine.switching import choose_suppliers


class Renewals:
    """The renewal stage of :class:`~sim.engine.model.ProcurementModel`'s period (a mixin: it reads the model's state)."""

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
        dropped, noticed = self._walk_away(renewing)
        negotiating = renewing[~dropped]
        forced = np.concatenate([orphaned, renewing[dropped]])
        choosing = np.concatenate([negotiating, forced])
        if not choosing.size:
            return
        # Alternatives are assessed once, at the start of the renewal round.
        quotes = self._quotes()
        alternatives, (best_offer, best_value) = self._alternatives(choosing, st.supplier[choosing], quotes)
        n = negotiating.size
        if n:
            self._negotiate(negotiating, alternatives[:, :n], best_offer[:n], best_value[:n], noticed[~dropped])
        is_forced = np.arange(choosing.size) >= n
        is_dropped = np.arange(choosing.size) >= n + orphaned.size
        self._switch(choosing, alternatives, is_forced, is_dropped, quotes)

    def _walk_away(self, renewing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Walk-away with notice ("fire the customer", seeds 000 and 001), for the renewing accounts.

        An account whose contribution has funded less of its upkeep than the supplier's
        reservation asks (``firmness``; favours the supplier gave aside) for
        ``walk_away_periods`` in a row gets notice: at this renewal its price is corrected to
        the reservation, whatever the ratchet. Negotiations never go below the reservation, so
        an account falls below it through terms won elsewhere, costs that rose or a
        reservation the supplier raised. An account on notice that still does not pay its way
        at its next renewal is dropped: the supplier stops selling to it, so it must switch and
        redesign. Returns (dropped, noticed) masks over ``renewing``.
        """
        st, sp = self.state, self.sp.p
        t = self.period
        s = self.links.supplier[renewing]
        uncovered = st.uncovered_periods[renewing] >= sp["walk_away_periods"][s]
        on_notice = st.notice_period[renewing] >= 0
        dropped = uncovered & on_notice
        noticed = uncovered & ~on_notice
        st.notice_period[renewing[on_notice & ~uncovered]] = -1  # it pays its way again: notice lifted
        st.notice_period[renewing[noticed]] = t
        noticed_text = (
            "given notice by their supplier: they did not pay for their share of its upkeep, so their price is "
            "corrected, or they are dropped at the next renewal"
        )
        dropped_text = (
            "dropped by their supplier (they did not pay for the upkeep of what they receive: fire the customer)"
        )
        for mask, counter, what in (
            (noticed, "accounts_noticed", noticed_text),
            (dropped, "accounts_dropped", dropped_text),
        ):
            if mask.any():
                counts = np.bincount(self.cust_member[renewing[mask]], minlength=self.n_members)
                for r in np.flatnonzero(counts):
                    m = self.markets[r]
                    setattr(m, counter, getattr(m, counter) + int(counts[r]))
                    m.events.append((t, f"{int(counts[r])} account(s) {what}"))
        return dropped, noticed

    def _negotiate(
        self,
        idx: np.ndarray,
        alternatives: np.ndarray,
        best_offer: np.ndarray,
        best_value: np.ndarray,
        noticed: np.ndarray,
    ) -> None:
        """Renewal terms for the negotiating accounts ``idx``: the negotiation, the ratchet, a notice's price
        correction and the value-pricing premium (docs/model.md, stage 4)."""
        st, sp, cp = self.state, self.sp.p, self.cp.p
        n = len(idx)
        gift_unit = sp["gift_cost_ratio"] / np.maximum(st.capability[:, SUPPORT], SUPPORT_FLOOR)
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
            st.favour,
            st.margin_reported,
            sp["gross_margin"],
            gift_unit,
            self.upkeep_per_unit,
            sp["firmness"],
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
        new_discount = np.clip(_ratchet(discount, deal.discount, ratchet), 0.0, MAX_DISCOUNT)
        new_gift = np.maximum(_ratchet(gift, deal.gift, ratchet), 0.0)
        if noticed.any():  # notice: the price goes back to the supplier's reservation, whatever the ratchet
            correction = np.maximum(ctx.ceiling - new_gift, 0.0)
            new_discount = np.where(noticed, np.minimum(new_discount, correction), new_discount)
        st.discount[idx] = new_discount
        st.gift[idx] = new_gift
        st.favour[idx] = np.minimum(st.favour[idx], new_discount + new_gift)
        cp["value_visibility"][idx] = np.clip(deal.visibility, 0.0, 1.0)
        st.perceived_value[idx] = deal.perceived
        # Cheaper or better: the supplier asks a premium for value no rival sells and a healthy supplier at
        # the reference capability would not sell either (a share of the difference), never so much that the
        # buyer, as it perceives what it gets now, would do better with the best rival offer or by leaving the
        # market; none without a rival to compare with.
        links = self.links
        visibility = cp["value_visibility"][idx]
        sold = visibility * (self.value_table[links.cell[idx]] + new_gift)
        rivals = np.isfinite(best_value)
        matched = np.maximum(np.where(rivals, best_value, 0.0), visibility * self.baseline_value[idx])
        better = np.where(rivals, sold - matched, 0.0)
        outside = self.market_lever["outside_option"][self.cust_member[idx]]
        room = deal.perceived - (1.0 - new_discount) - np.maximum(np.where(rivals, best_offer, 0.0), outside)
        ask = sp["value_pricing"][links.supplier[idx]] * np.maximum(better, 0.0)
        st.premium[idx] = np.minimum(ask, np.maximum(room, 0.0))
        st.price[idx] = 1.0 - new_discount + st.premium[idx]

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

    def _quotes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each supplier's terms for a rival's customer (discount, gift and premium per unit), its strategy's.

        The going terms are the average of what its own customers get, weighted by their base
        demand; a supplier without customers quotes list price. The premium quoted is the
        going premium, whatever the strategy (value pricing is not a negotiation tactic).
        """
        st, sp = self.state, self.sp.p
        s, on = self.links.supplier, self.links.on
        going_discount, going_gift = np.zeros(self.n_suppliers), np.zeros(self.n_suppliers)
        going_premium = np.zeros(self.n_suppliers)
        going_terms_pass(
            s, st.base_demand * on, st.discount, st.gift, st.premium, going_discount, going_gift, going_premium
        )
        discount, gift = np.zeros(self.n_suppliers), np.zeros(self.n_suppliers)
        for name, strategy in self.strategies.items():
            rows = self.strategy_rows[name]
            discount[rows], gift[rows] = strategy.quote(
                going_discount[rows], going_gift[rows], sp["acquisition_discount"][rows]
            )
        return np.clip(discount, 0.0, MAX_DISCOUNT), np.maximum(gift, 0.0), going_premium

    def _alternatives(
        self, idx: np.ndarray, current: np.ndarray, quotes: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Utility of each option for customers ``idx``: (S + 2, n), -inf where unavailable; and the best
        rival offer per unit (perceived value of what it sells, less its price) and the most value per unit
        a rival sells, both -inf without a rival.

        Row 0 is left for staying (filled at the switching step), rows 1..S are the
        suppliers of the customer's market on the terms they quote a new customer, row S + 1
        is leaving the market (S: the most suppliers a market has; a market with fewer has
        unavailable rows in between). A new relationship starts without co-created value
        (see :meth:`_fresh_cocreation`). Options are rows and customers columns, so
        per-customer maxima reduce across a few contiguous rows.
        """
        st, cp = self.state, self.cp.p
        options = np.empty((int(self.sup_count.max()) + 2, len(idx)))
        best_offer, best_value = np.empty(len(idx)), np.empty(len(idx))
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
            quotes[2],
            self.market_lever["outside_option"],
            float(self.cycle),
            options,
            best_offer,
            best_value,
        )
        return options, (best_offer, best_value)

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
        quotes: tuple[np.ndarray, np.ndarray, np.ndarray],
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
        # Leaving the market (in-sourcing, another channel) is a structural decision, not noise: a customer
        # leaves only where leaving beats staying and every supplier's offer; otherwise it takes the best.
        last = options.shape[0] - 1
        whim = (choice == last) & (options[last] < options[:last].max(axis=0))
        if whim.any():
            choice[whim] = options[:last, whim].argmax(axis=0)
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
        cheaper = won & (quotes[0][start + np.maximum(new_supplier, 0)] > st.discount[rows])
        walked = dropped[moving] | (st.notice_period[rows] == t)  # dropped, or left when given notice
        reasons = move_reasons(walked, redesigning, cheaper)
        st.customers_acquired += np.bincount((start + new_supplier)[won], minlength=self.n_suppliers)
        st.supplier[rows] = new_supplier
        winner = np.maximum(new_supplier, 0)
        rival = start + winner
        st.discount[rows] = np.where(won, quotes[0][rival], 0.0)
        st.gift[rows] = np.where(won, quotes[1][rival], 0.0)
        st.premium[rows] = np.where(won, quotes[2][rival], 0.0)
        st.cocreation[rows] = np.where(won, self._fresh_cocreation(rows, rival), 0.0)
        rival_value = self.value_table[self.cust_table[rows] + winner] + st.gift[rows]
        st.perceived_value[rows] = np.where(won, cp["value_visibility"][rows] * rival_value, 0.0)
        st.trust[rows] = 1.0
        st.balance_smoothed[rows] = self.band_middle[self.cust_member[rows]]
        st.favour[rows] = 0.0
        st.service[rows] = 1.0
        st.cover[rows] = 1.0
        st.uncovered_periods[rows] = 0
        st.notice_period[rows] = -1
        st.relationship_start[rows] = t + 1
        st.price[rows] = 1.0 - st.discount[rows] + st.premium[rows]
        self._links = None
        self.recorder.note_moves(
            np.where(dropped[moving], -2, new_supplier), redesigning, member[moving], rows, reasons
        )
        if leaving.any():
            counts = np.bincount(member[moving][leaving], minlength=self.n_members)
            for r in np.flatnonzero(counts):
                self.markets[r].events.append(
                    (t, f"{int(counts[r])} customer(s) left the market (no acceptable supplier)")
                )


MAX_DISCOUNT = 0.95  # hard physical cap on any discount, far above every documented bound


def _ratchet(old: np.ndarray, new: np.ndarray, ratchet: np.ndarray | float) -> np.ndarray:
    """A concession may rise freely; a fall keeps ``ratchet`` of the old level (1 = sticky)."""
    return np.where(new < old, old - (1.0 - ratchet) * (old - new), new)
