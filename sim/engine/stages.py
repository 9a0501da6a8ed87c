"""Stages 1-3 of a period: orders, the suppliers' books and budgets, and the customers' update."""

from __future__ import annotations

import numpy as np

from sim.engine.capabilities import SALES, SUPPORT, distribute_cuts
from sim.engine.delays import toward_asymmetric
from sim.engine.kernels import customer_pass, supplier_books_pass

# Support capability below which added service costs no more (a floor that keeps gift costs finite).
SUPPORT_FLOOR = 0.1


class Stages:
    """The first three stages of :class:`~sim.engine.model.ProcurementModel`'s period (a mixin: it reads the model's state)."""

    def place_orders(self) -> None:
        """Stage 1: volume from base demand and market success, at the negotiated price."""
        st = self.state
        np.subtract(1.0, st.discount, out=st.price)
        st.price += st.premium
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
            st.service,
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
        # The honest ledger: the upkeep of the offer (its capabilities at the reference level 1.0,
        # or what it has built above that), whatever was spent; running down never lowers the bar.
        reference = self.reference_spend * st.list_revenue[:, None]
        st.sustaining_investment[:] = np.maximum(st.capability, 1.0) * reference
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
        # Losses never become the norm: the standard stops at the floor (or at the plan, if that is lower).
        np.maximum(st.margin_standard, np.minimum(sp["margin_floor"], target), out=st.margin_standard)
        st.margin_reported += trading * (st.margin - st.margin_reported) * self.reporting_rate

    def _update_tables(self) -> None:
        """Value per unit of each (segment, supplier) cell and its co-created part, every market's table."""
        cap = self.state.capability
        if self.uniform:
            stacked = cap.reshape(self.n_members, -1, cap.shape[1]).transpose(0, 2, 1)
            self.value_table = (self._weights @ stacked).reshape(-1)
            self.cocreation_table = (self._coweights @ stacked).reshape(-1)
            self.service_table = (self._serviceweights @ stacked).reshape(-1)
            return
        self.value_table = np.concatenate(
            [(w @ cap[m.suppliers].T).ravel() for w, m in zip(self._weights, self.markets, strict=True)]
        )
        self.cocreation_table = np.concatenate(
            [(w @ cap[m.suppliers].T).ravel() for w, m in zip(self._coweights, self.markets, strict=True)]
        )
        self.service_table = np.concatenate(
            [(w @ cap[m.suppliers].T).ravel() for w, m in zip(self._serviceweights, self.markets, strict=True)]
        )

    def update_customers(self) -> None:
        """Stage 3: delivered value, own market success, the ledger, trust, engagement, co-creation.

        Per customer (one compiled pass, :func:`sim.engine.kernels.customer_pass`; docs/model.md
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
        sustain_per_unit = self.upkeep_per_unit = np.divide(
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
            self.service_table,
            cp["value_visibility"],
            self.inverse_baseline_value,
            rate["perception_lag"],
            rate["expectation_lag"],
            rate["trust_lag"],
            rate["trust_loss_lag"],
            rate["engagement_lag"],
            rate["cocreation_lag"],
            self.customer_smoothing,
            self.band[1],
            cp["trust_tolerance"],
            cp["engagement"],
            cp["cocreation_gain"],
            self.customer_reference,
            cp["reciprocity"],
            sp["gross_margin"],
            sustain_per_unit,
            sp["engagement_value"],
            np.ascontiguousarray(st.capability[:, SALES]),
            st.list_revenue,
            self.budget_rate,
            sp["service_response"],
            sp["firmness"],
            st.volume,
            st.price,
            st.gift,
            st.favour,
            st.cost_to_serve,
            st.gift_cost,
            st.pending_cost,
            st.redesign_cost,
            st.redesign_left,
            st.value,
            st.value_capability,
            st.value_withheld,
            st.value_cocreated,
            st.paid,
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
            st.service,
            st.cover,
            st.uncovered_periods,
            st.expectation_ratio,
            st.received_ratio,
        )
        # Own market success follows the value received: G* = (u / u_baseline) ** elasticity.
        ratio = st.value * self.inverse_baseline_value
        with np.errstate(divide="ignore", invalid="ignore"):  # (ratio ** e, cheaper; no value: no success)
            sustained = np.where(ratio > 0, np.exp(cp["elasticity"] * np.log(ratio)), 0.0)
        st.market_success += (sustained - st.market_success) * rate["market_lag"]
