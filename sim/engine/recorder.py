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

from sim.engine.capabilities import CAPABILITIES
from sim.engine.customers import balance_index
from sim.engine.series import (  # noqa: F401  (the names, where readers of the recorder have always found them)
    COUNT_SERIES,
    MARKET_SERIES,
    MONEY_SERIES,
    MOVE_REASONS,
    PRICE_GAP,
    SHARE_SERIES,
    SUPPLIER_EXIT,
    VALUE_SHORTFALL,
    WALK_AWAY,
)
from sim.engine.state import RECORDED_CUSTOMER_FIELDS

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel

CUSTOMER_SERIES = ("supplier", *RECORDED_CUSTOMER_FIELDS)
SUPPLIER_SERIES = ("active", "cash", "margin", "profit", "revenue", *CAPABILITIES, "customers")


# Customer series that are the leading rows of the state's customer block (all but the supplier id).
BLOCK_SERIES = RECORDED_CUSTOMER_FIELDS


def move_reasons(dropped: np.ndarray, forced: np.ndarray, cheaper: np.ndarray) -> np.ndarray:
    """Each mover's reason: walk-away (dropped by its supplier, or left when given notice), orphaned by an exit,
    a cheaper rival, or else value."""
    return np.where(dropped, WALK_AWAY, np.where(forced, SUPPLIER_EXIT, np.where(cheaper, PRICE_GAP, VALUE_SHORTFALL)))


def capability_index(model: ProcurementModel) -> float:
    """Mean of the four stocks, weighted as the served customers weight them (MODEL-SPEC section 6).

    Of a one-market model (or of the first market of an ensemble: see :func:`capability_indices`).
    """
    return float(capability_indices(model)[0])


def capability_indices(model: ProcurementModel) -> np.ndarray:
    """The capability index of every market of a model, (markets,).

    Base demand per (segment, supplier) times the segments' value weights, so nothing of
    shape (customers, 4) is built.
    """
    cap = model.state.capability
    base = model.links.base
    if model.uniform:
        R = model.n_members
        importance = base.reshape(R, -1, cap.shape[0] // R).transpose(0, 2, 1) @ model._weights  # (R, S, 4)
        denom = importance.reshape(R, -1).sum(axis=1)
        weighted = (importance * cap.reshape(R, -1, cap.shape[1])).reshape(R, -1).sum(axis=1)
    else:
        flat = base.reshape(-1)
        parts = []
        for m, weights in zip(model.markets, model._weights, strict=True):
            cells = flat[model.table_start[m.index] : model.table_start[m.index] + weights.shape[0] * m.n_suppliers]
            importance = cells.reshape(weights.shape[0], m.n_suppliers).T @ weights
            parts.append(((importance * cap[m.suppliers]).sum(), importance.sum()))
        weighted, denom = (np.array(v) for v in zip(*parts, strict=True))
    return np.divide(weighted, denom, out=np.zeros(len(denom)), where=denom > 0)


class Segments:
    """Per-market sums and dot products over the rows of an ensemble, as each market alone computes them.

    Markets of equal size are rows of a reshaped array (numpy reduces each row as it reduces a
    market's own array, so the sums are bit for bit those of the single runs); markets of
    different sizes are reduced one at a time.
    """

    def __init__(self, starts: np.ndarray, sizes: np.ndarray, uniform: bool):
        self.starts, self.sizes, self.uniform = starts, sizes, uniform
        self.n = len(starts)

    def rows(self, x: np.ndarray) -> np.ndarray | list[np.ndarray]:
        """``x`` (rows, ...) as (markets, rows per market, ...) or a list of per-market parts."""
        if self.uniform:
            return x.reshape(self.n, -1, *x.shape[1:])
        return [x[a : a + n] for a, n in zip(self.starts.tolist(), self.sizes.tolist(), strict=True)]

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Sum over each market's rows (and any trailing axes)."""
        if self.uniform:
            return x.reshape(self.n, -1).sum(axis=1)
        return np.array([part.sum() for part in self.rows(x)])

    def dot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a @ b`` within each market (1-D rows)."""
        if self.uniform:
            return (a.reshape(self.n, 1, -1) @ b.reshape(self.n, -1, 1)).reshape(self.n)
        return np.array([x @ y for x, y in zip(self.rows(a), self.rows(b), strict=True)])

    def vecmat(self, v: np.ndarray, m: np.ndarray) -> np.ndarray:
        """``v @ m`` within each market: v (rows,), m (rows, k) -> (markets, k)."""
        if self.uniform:
            return (v.reshape(self.n, 1, -1) @ m.reshape(self.n, -1, m.shape[1])).reshape(self.n, -1)
        return np.array([x @ y for x, y in zip(self.rows(v), self.rows(m), strict=True)])

    def matvec(self, block: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``block @ v`` within each market: block (k, rows), v (rows,) -> (markets, k)."""
        if self.uniform:
            stacked = block.reshape(block.shape[0], self.n, -1).transpose(1, 0, 2)
            return (stacked @ v.reshape(self.n, -1, 1)).reshape(self.n, -1)
        return np.array(
            [block[:, a : a + n] @ v[a : a + n] for a, n in zip(self.starts.tolist(), self.sizes.tolist(), strict=True)]
        )

    def block_sum(self, block: np.ndarray) -> np.ndarray:
        """Row sums of ``block`` (k, rows) within each market -> (markets, k)."""
        if self.uniform:
            return block.reshape(block.shape[0], self.n, -1).sum(axis=2).T
        return np.array(
            [block[:, a : a + n].sum(axis=1) for a, n in zip(self.starts.tolist(), self.sizes.tolist(), strict=True)]
        )


# Market series that are means of a customer field: weighted by volume, and over served customers.
VOLUME_WEIGHTED = {
    "discount_mean": "discount",
    "demand_mean": "demand",
    "value_mean": "value",
    "gift_value_mean": "gift",
}
SERVED_MEANS = {"engagement_mean": "engagement", "trust_mean": "trust", "market_success_mean": "market_success"}


def _rows(block: np.ndarray, at: dict[str, int], fields) -> tuple[np.ndarray, int]:
    """The rows of the customer block from the first to the last of ``fields`` (a view), and the first row."""
    rows = [at[f] for f in fields]
    return block[min(rows) : max(rows) + 1], min(rows)


def _where_positive(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0, else 0."""
    return np.divide(num, den, out=np.zeros(len(den)), where=den > 0)


def series_columns(series: dict[str, np.ndarray], periods: int) -> dict[str, np.ndarray]:
    """The market series of one market as columns, one value per period (counts as integers)."""
    n = min(periods, len(series["joint_value"]))
    columns = {"period": np.arange(n)}
    for name, values in series.items():
        columns[name] = values[:n].astype(np.int64) if name in COUNT_SERIES else values[:n]
    return columns


def series_frame(series: dict[str, np.ndarray], periods: int) -> pd.DataFrame:
    """The market series of one market as a table, one row per period (counts as integers)."""
    return pd.DataFrame(series_columns(series, periods))


class MemberRecorder:
    """One market's series in an ensemble's recorder (views on its rows)."""

    def __init__(self, recorder: Recorder, r: int):
        self.recorder = recorder
        self.index = r
        self.series = {name: values[r] for name, values in recorder._rows.items()}
        self.agents_every = 0

    def timeseries(self) -> pd.DataFrame:
        """One row per period simulated so far."""
        return series_frame(self.series, self.recorder.model.period)

    def columns(self) -> dict[str, np.ndarray]:
        """The same as numpy columns (no table built)."""
        return series_columns(self.series, self.recorder.model.period)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Mesa ``DataCollector`` API: the market series, indexed by period."""
        return self.timeseries().set_index("period", drop=False)


class Recorder:
    """Stores one row of market series per period for every market and, every ``agents_every`` periods, agent rows.

    The series of a one-market model are ``series[name]`` (periods,); an ensemble's are
    (markets, periods), and :meth:`member` gives one market's recorder.
    """

    def __init__(self, model: ProcurementModel, agents_every: int = 1):
        self.model = model
        T, R = model.periods, model.n_members
        self.values = np.zeros((len(MARKET_SERIES), R, T))
        self.series = {name: self.values[i, 0] if R == 1 else self.values[i] for i, name in enumerate(MARKET_SERIES)}
        self._rows = {name: self.values[i] for i, name in enumerate(MARKET_SERIES)}
        self.agents_every = agents_every if R == 1 else 0
        self.agent_periods: list[int] = []
        n_rows = 0 if self.agents_every <= 0 else -(-T // self.agents_every) + 1
        self.customer_block = np.zeros((n_rows, len(BLOCK_SERIES), model.n_customers), dtype=np.float32)
        self.customer_supplier = np.zeros((n_rows, model.n_customers), dtype=np.int64)
        self.suppliers = {name: np.zeros((n_rows, model.n_suppliers)) for name in SUPPLIER_SERIES}
        self.moves = np.zeros((3, R), dtype=np.int64)  # switches, relationships ended, redesigns
        self.move_log: list[tuple[np.ndarray, np.ndarray]] | None = None  # (customers, reasons) per renewal, if a list
        self._balance_ewma = model.band_middle.copy()
        sizes_c = np.array([m.n_customers for m in model.markets])
        sizes_s = np.array([m.n_suppliers for m in model.markets])
        self.customers = Segments(model.cust_start, sizes_c, model.uniform)
        self.supplier_rows = Segments(model.sup_start, sizes_s, model.uniform)

    def member(self, r: int) -> MemberRecorder:
        """The recorder of market ``r`` (a view)."""
        return MemberRecorder(self, r)

    def note_moves(
        self,
        new: np.ndarray,
        redesigning: np.ndarray,
        members: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        reasons: np.ndarray | None = None,
    ) -> None:
        """Count switches, relationships that ended and forced redesigns (per market, ``members``).

        ``new`` is the new supplier per moving customer, -1 for leaving the market and -2
        for a dropped account (already counted as ended by :meth:`note_dropped`). When
        ``move_log`` is a list, the movers (``rows``) and their ``reasons`` are appended to it.
        """
        if self.move_log is not None and rows is not None and reasons is not None:
            self.move_log.append((rows.copy(), reasons))
        members = np.zeros(len(new), dtype=np.int64) if members is None else members
        R = self.model.n_members
        self.moves[0] += np.bincount(members[new >= 0], minlength=R)
        self.moves[1] += np.bincount(members[new == -1], minlength=R)
        self.moves[2] += np.bincount(members[redesigning], minlength=R)

    def note_dropped(self, members: np.ndarray | int) -> None:
        """Accounts dropped by their supplier: relationships ended, wherever the customers go.

        ``members`` is the market of each dropped account (or, for one market, their number).
        """
        if np.ndim(members) == 0:
            self.moves[1, 0] += int(members)
        else:
            self.moves[1] += np.bincount(members, minlength=self.model.n_members)

    def take_moves(self) -> tuple[int, int, int]:
        """Switches, ended relationships and forced redesigns since the last call (then reset); one market."""
        counts = tuple(int(v) for v in self.moves[:, 0])
        self.moves[:] = 0
        return counts

    def take_all_moves(self) -> np.ndarray:
        """(3, markets): switches, ended relationships and forced redesigns since the last call (then reset)."""
        counts = self.moves.copy()
        self.moves[:] = 0
        return counts

    def record(self) -> None:
        m, st = self.model, self.model.state
        t = m.period
        links = m.links
        row = {name: values[:, t] for name, values in self._rows.items()}  # views: one column per market
        cust, sups = self.customers, self.supplier_rows
        row["capability_index"][:] = capability_indices(m)
        if m.uniform:
            base = links.base.reshape(m.n_members, -1, st.capability.shape[0] // m.n_members).sum(axis=1).reshape(-1)
        else:
            flat = links.base.reshape(-1)
            base = np.concatenate(
                [
                    flat[m.table_start[k.index] : m.table_start[k.index] + len(w) * k.n_suppliers]
                    .reshape(len(w), k.n_suppliers)
                    .sum(axis=0)
                    for k, w in zip(m.markets, m._weights, strict=True)
                ]
            )
        base_total = sups.sum(base)
        by_capability = sups.vecmat(base, st.capability)
        by_capability = np.divide(
            by_capability, base_total[:, None], out=np.zeros_like(by_capability), where=base_total[:, None] > 0
        )
        for k, name in enumerate(CAPABILITIES):
            row[name][:] = by_capability[:, k]
        # The customer fields the series need, each group's rows of the block in one product:
        # volume-weighted means, means over served customers, totals.
        at = st.customer_rows
        block = st.customer_block
        total_vol = cust.sum(st.volume)
        n_served = cust.sum(links.on)
        safe_vol = np.where(total_vol > 0, total_vol, 1.0)[m.cust_member]
        safe_served = np.where(n_served > 0, n_served, 1.0)[m.cust_member]
        weighted, w0 = _rows(block, at, VOLUME_WEIGHTED.values())
        weighted = cust.matvec(weighted, st.volume / safe_vol) * (total_vol > 0)[:, None]
        averaged, a0 = _rows(block, at, SERVED_MEANS.values())
        averaged = cust.matvec(averaged, links.on / safe_served) * (n_served > 0)[:, None]
        totals, t0 = _rows(block, at, ("customer_value", "supplier_value"))
        totals = cust.block_sum(totals)
        for series, field in VOLUME_WEIGHTED.items():
            row[series][:] = weighted[:, at[field] - w0]
        for series, field in SERVED_MEANS.items():
            row[series][:] = averaged[:, at[field] - a0]
        vc, vs = totals[:, at["customer_value"] - t0], totals[:, at["supplier_value"] - t0]
        row["customer_value"][:], row["supplier_value"][:], row["joint_value"][:] = vc, vs, vc + vs
        row["contribution"][:] = cust.sum(st.contribution)
        row["transaction_cost"][:] = cust.sum(st.transaction_cost)
        balance = balance_index(vs, vc)
        row["balance"][:] = balance
        self._balance_ewma += m.smoothing_rate * (balance - self._balance_ewma)
        row["balance_smoothed"][:] = self._balance_ewma
        active = st.active
        # Every supplier that traded this period counts, the one that exits at its end included.
        revenue = sups.sum(st.revenue)
        profit = sups.sum(st.profit)
        row["supplier_margin"][:] = _where_positive(profit, revenue)
        row["supplier_cash"][:] = sups.dot(st.cash, active.astype(float))
        row["supplier_profit"][:] = profit
        row["revenue"][:] = revenue
        gifts = sups.sum(st.gift_cost_total)
        invested = sups.sum(st.investment)
        row["investment"][:] = invested + gifts
        row["investment_desired"][:] = sups.sum(st.desired_investment) + gifts
        row["investment_planned"][:] = sups.sum(m.sp.p["spend"] * st.list_revenue[:, None])
        row["gift_cost"][:] = gifts
        sustaining = sups.sum(st.sustaining_investment)
        row["investment_sustaining"][:] = sustaining
        row["capability_depletion"][:] = sustaining - invested
        row["engagement_value"][:] = cust.sum(st.supplier_value - st.contribution + st.sustaining_cost)
        row["overhead_fixed"][:] = sups.sum(
            st.overhead - np.bincount(links.supplier, weights=st.cost_to_serve, minlength=m.n_suppliers)
        )
        book = st.list_revenue
        planned = _where_positive((st.standard * m.sp.p["spend"]).sum(axis=1), m.sp.p["spend"].sum(axis=1))
        book_total = sups.sum(book)
        row["service_standard"][:] = _where_positive(sups.dot(planned, book), book_total)
        row["margin_standard"][:] = _where_positive(sups.dot(st.margin_standard, book), book_total)
        row["expectation_ratio"][:] = _where_positive(sups.dot(st.expectation_ratio, book), book_total)
        row["active_suppliers"][:] = sups.sum(active)
        row["customers_served"][:] = n_served
        row["switches"][:], row["relationships_ended"][:], row["redesigns"][:] = self.take_all_moves()
        row["exits"][:] = sups.sum(st.exit_period == t)
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
        return series_frame(self.series, self.model.period)

    def columns(self) -> dict[str, np.ndarray]:
        """The same as numpy columns (no table built)."""
        return series_columns(self.series, self.model.period)

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
