"""Data collection, vectorised: market-level series and per-agent series every period.

Mesa's ``DataCollector`` calls a Python function per agent per period and deep-copies
every value, which at 2,000 customers cost more than the whole simulation. The recorder
fills preallocated numpy arrays from the model's state instead, and offers the two
methods Mesa's tools read (``get_model_vars_dataframe``, ``get_agent_vars_dataframe``),
so ``model.datacollector`` works wherever a Mesa ``DataCollector`` is expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .capabilities import CAPABILITIES
from .state import RECORDED_CUSTOMER_FIELDS

if TYPE_CHECKING:
    from .model import ProcurementModel

MARKET_SERIES = (
    "discount_mean",
    "demand_mean",
    "capability_index",
    *CAPABILITIES,
    "value_mean",
    "supplier_margin",
    "supplier_cash",
    "supplier_profit",
    "contribution",
    "revenue",
    "investment",
    "investment_desired",
    "investment_planned",
    "investment_sustaining",
    "gift_cost",
    "capability_depletion",
    "engagement_value",
    "overhead_fixed",
    "service_standard",
    "margin_standard",
    "expectation_ratio",
    "customer_value",
    "supplier_value",
    "joint_value",
    "balance",
    "balance_smoothed",
    "active_suppliers",
    "customers_served",
    "engagement_mean",
    "trust_mean",
    "market_success_mean",
    "gift_value_mean",
    "switches",
    "relationships_ended",
    "transaction_cost",
    "exits",
    "redesigns",
)
CUSTOMER_SERIES = ("supplier", *RECORDED_CUSTOMER_FIELDS)
SUPPLIER_SERIES = ("active", "cash", "margin", "profit", "revenue", *CAPABILITIES, "customers")


# Customer series that are the leading rows of the state's customer block (all but the supplier id).
BLOCK_SERIES = RECORDED_CUSTOMER_FIELDS


def capability_index(model: ProcurementModel) -> float:
    """Mean of the four stocks, weighted as the served customers weight them (MODEL-SPEC section 6).

    Base demand per (segment, supplier) times the segments' value weights, so nothing of
    shape (customers, 4) is built.
    """
    importance = model.links.base.T @ model.group_weights  # (S, 4)
    denom = importance.sum()
    return float((importance * model.state.capability).sum() / denom) if denom > 0 else 0.0


class Recorder:
    """Stores one row of market series per period and, every ``agents_every`` periods, agent rows."""

    def __init__(self, model: ProcurementModel, agents_every: int = 1):
        self.model = model
        T = model.periods
        self.series = {name: np.zeros(T) for name in MARKET_SERIES}
        self.agents_every = agents_every
        self.agent_periods: list[int] = []
        n_rows = 0 if agents_every <= 0 else -(-T // agents_every) + 1
        self.customer_block = np.zeros((n_rows, len(BLOCK_SERIES), model.n_customers), dtype=np.float32)
        self.customer_supplier = np.zeros((n_rows, model.n_customers), dtype=np.int64)
        self.suppliers = {name: np.zeros((n_rows, model.n_suppliers)) for name in SUPPLIER_SERIES}
        self._moves = self._ended = self._redesigns = 0
        self._balance_ewma = 0.5 * sum(model.fair_band)

    def note_moves(self, new: np.ndarray, redesigning: np.ndarray) -> None:
        """Count switches, relationships that ended and forced redesigns.

        ``new`` is the new supplier per moving customer, -1 for leaving the market and -2
        for a dropped account (already counted as ended by :meth:`note_dropped`).
        """
        self._moves += int((new >= 0).sum())
        self._ended += int((new == -1).sum())
        self._redesigns += int(redesigning.sum())

    def note_dropped(self, n: int) -> None:
        """Accounts dropped by their supplier: relationships ended, wherever the customers go."""
        self._ended += n

    def take_moves(self) -> tuple[int, int, int]:
        """Switches, ended relationships and forced redesigns since the last call (then reset)."""
        counts = self._moves, self._ended, self._redesigns
        self._moves = self._ended = self._redesigns = 0
        return counts

    def record(self) -> None:
        m, st = self.model, self.model.state
        t = m.period
        links = m.links
        row = self.series
        row["capability_index"][t] = capability_index(m)
        base = links.base.sum(axis=0)
        base_total = base.sum()
        by_capability = base @ st.capability / base_total if base_total > 0 else np.zeros(len(CAPABILITIES))
        for k, name in enumerate(CAPABILITIES):
            row[name][t] = by_capability[k]
        # Every customer field at once: volume-weighted means, means over served customers, totals.
        at = st.customer_rows
        block = st.customer_block[: len(BLOCK_SERIES)]  # the recorded fields lead the block
        total_vol = st.volume.sum()
        n_served = links.on.sum()
        weighted = block @ (st.volume / total_vol) if total_vol > 0 else np.zeros(len(block))
        averaged = block @ (links.on / n_served) if n_served else np.zeros(len(block))
        totals = block.sum(axis=1)
        for series, field in (
            ("discount_mean", "discount"),
            ("demand_mean", "demand"),
            ("value_mean", "value"),
            ("gift_value_mean", "gift"),
        ):
            row[series][t] = weighted[at[field]]
        for series, field in (
            ("engagement_mean", "engagement"),
            ("trust_mean", "trust"),
            ("market_success_mean", "market_success"),
        ):
            row[series][t] = averaged[at[field]]
        vc, vs = totals[at["customer_value"]], totals[at["supplier_value"]]
        row["customer_value"][t], row["supplier_value"][t], row["joint_value"][t] = vc, vs, vc + vs
        row["contribution"][t] = st.contribution.sum()
        row["transaction_cost"][t] = st.transaction_cost.sum()
        vs_pos, vc_pos = max(vs, 0.0), max(vc, 0.0)
        balance = vs_pos / (vs_pos + vc_pos) if vs_pos + vc_pos > 0 else 0.5
        row["balance"][t] = balance
        self._balance_ewma += m.smoothing * (balance - self._balance_ewma)
        row["balance_smoothed"][t] = self._balance_ewma
        active = st.active
        # Every supplier that traded this period counts, the one that exits at its end included.
        revenue = st.revenue.sum()
        profit = st.profit.sum()
        row["supplier_margin"][t] = profit / revenue if revenue > 0 else 0.0
        row["supplier_cash"][t] = st.cash @ active
        row["supplier_profit"][t] = profit
        row["revenue"][t] = revenue
        row["investment"][t] = st.investment.sum() + st.gift_cost_total.sum()
        row["investment_desired"][t] = st.desired_investment.sum() + st.gift_cost_total.sum()
        row["investment_planned"][t] = (m.sp.p["spend"] * st.list_revenue[:, None]).sum()
        row["gift_cost"][t] = st.gift_cost_total.sum()
        sustaining = st.sustaining_investment.sum()
        row["investment_sustaining"][t] = sustaining
        row["capability_depletion"][t] = sustaining - st.investment.sum()
        row["engagement_value"][t] = (st.supplier_value - st.contribution + st.sustaining_cost).sum()
        row["overhead_fixed"][t] = (
            st.overhead - np.bincount(links.supplier, weights=st.cost_to_serve, minlength=m.n_suppliers)
        ).sum()
        book = st.list_revenue
        planned = (st.standard * m.sp.p["spend"]).sum(axis=1) / m.sp.p["spend"].sum(axis=1)
        row["service_standard"][t] = planned @ book / book.sum() if book.sum() > 0 else 0.0
        row["margin_standard"][t] = st.margin_standard @ book / book.sum() if book.sum() > 0 else 0.0
        row["expectation_ratio"][t] = st.expectation_ratio @ book / book.sum() if book.sum() > 0 else 0.0
        row["active_suppliers"][t] = active.sum()
        row["customers_served"][t] = n_served
        row["switches"][t], row["relationships_ended"][t], row["redesigns"][t] = self.take_moves()
        row["exits"][t] = (st.exit_period == t).sum()
        if self.agents_every > 0 and (t % self.agents_every == 0 or t == m.periods - 1):
            self._record_agents(t)

    def _record_agents(self, t: int) -> None:
        st = self.model.state
        r = len(self.agent_periods)
        self.agent_periods.append(t)
        self.customer_block[r] = st.customer_block[: len(BLOCK_SERIES)]
        self.customer_supplier[r] = st.supplier
        sup = self.suppliers
        sup["active"][r] = st.active
        for name in ("cash", "margin", "profit", "revenue"):
            sup[name][r] = getattr(st, name)
        for k, name in enumerate(CAPABILITIES):
            sup[name][r] = st.capability[:, k]
        sup["customers"][r] = np.bincount(st.supplier[st.supplier >= 0], minlength=self.model.n_suppliers)

    def customer_series(self, name: str) -> np.ndarray:
        """One per-customer series as a (recorded periods, N) array (supplier: index, -1 = none)."""
        rows = len(self.agent_periods)
        if name == "supplier":
            return self.customer_supplier[:rows]
        return self.customer_block[:rows, BLOCK_SERIES.index(name)]

    # ------------------------------------------------------------------ tables

    def timeseries(self) -> pd.DataFrame:
        """One row per period simulated so far."""
        n = self.model.period
        df = pd.DataFrame({"period": np.arange(n), **{k: v[:n] for k, v in self.series.items()}})
        for name in ("active_suppliers", "customers_served", "switches", "relationships_ended", "exits", "redesigns"):
            df[name] = df[name].astype(np.int64)
        return df

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Mesa ``DataCollector`` API: the market series, indexed by period."""
        return self.timeseries().set_index("period", drop=False)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """Mesa ``DataCollector`` API: the per-agent series, indexed by (period, agent id)."""
        return self.agents().set_index(["period", "agent_id"])

    def agents(self) -> pd.DataFrame:
        """Per-agent series in long form: one row per agent per recorded period."""
        m = self.model
        rows = len(self.agent_periods)
        periods = np.asarray(self.agent_periods, dtype=np.int64)
        ids_c = np.array([a.unique_id for a in m.customer_agents], dtype=np.int64)
        ids_s = np.array([a.unique_id for a in m.supplier_agents], dtype=np.int64)
        supplier_ids = np.append(ids_s, -1)
        cust = {
            "period": np.repeat(periods, m.n_customers),
            "agent_id": np.tile(ids_c, rows),
            "agent_type": "customer",
            "group": pd.Categorical(np.tile(np.array(m.cp.group_names)[m.cp.group], rows)),
        }
        for name in CUSTOMER_SERIES:
            values = self.customer_series(name).reshape(-1)
            cust[name] = supplier_ids[values] if name == "supplier" else values.astype(np.float64)
        sup = {
            "period": np.repeat(periods, m.n_suppliers),
            "agent_id": np.tile(ids_s, rows),
            "agent_type": "supplier",
            "group": pd.Categorical(np.tile(np.array(m.sp.group_names)[m.sp.group], rows)),
        }
        for name in SUPPLIER_SERIES:
            sup[name] = self.suppliers[name][:rows].reshape(-1)
        sup["active"] = sup["active"].astype(bool)
        sup["customers"] = sup["customers"].astype(np.int64)
        frame = pd.concat([pd.DataFrame(sup), pd.DataFrame(cust)], ignore_index=True)
        frame["agent_type"] = frame["agent_type"].astype("category")
        frame["group"] = frame["group"].astype("category")
        return frame.sort_values(["period", "agent_id"], kind="stable", ignore_index=True)
