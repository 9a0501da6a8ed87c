"""Outcome classification and summary metrics of a run (MODEL-SPEC section 6).

The rules, in order:

* ``collapse``    a supplier became insolvent, or a relationship ended (an account was
                  dropped or a customer left the market) within the horizon;
* ``growth``      joint value over the last contract cycle is at least 10% above the first;
* ``spiral``      the capability index ends below 0.8 and is not recovering: still falling
                  over the last 8 periods (while discounts ratcheted up, as a rule), or stuck
                  down there (the capability trap);
* ``equilibrium`` the index changes less than 2% over the last 8 periods and is at least 0.8;
* ``drifting``    none of the above: the index still changes by 2% or more over the last 8
                  periods. The outlook (:mod:`sim.engine.outlook`) says where it is heading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

OUTCOMES = ("collapse", "spiral", "equilibrium", "growth", "drifting")
SPIRAL_LEVEL = 0.8
WINDOW = 8
SETTLED = 0.02
GROWTH = 0.10


@dataclass(frozen=True)
class Classification:
    outcome: str
    detail: str


# A run's market series: one array per column, one value per period (``period`` included).
Series = Mapping[str, np.ndarray]


class _FrameColumns(Mapping[str, np.ndarray]):
    """A time-series table read as numpy columns, each converted once."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.cache:
            self.cache[name] = self.frame[name].to_numpy()
        return self.cache[name]

    def __iter__(self):
        return iter(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame.columns)


def columns(ts: pd.DataFrame | Series) -> Series:
    """Numpy arrays by column name, from a time-series table or such a mapping (a sweep's thousands
    of runs are summarised from the recorder's arrays without building a table per run)."""
    return _FrameColumns(ts) if isinstance(ts, pd.DataFrame) else ts


def _window(n: int) -> int:
    return max(1, min(WINDOW, n - 1))


def classify(ts: pd.DataFrame | Series, cycle: int) -> Classification:
    """Name the outcome of a run from its market time series."""
    c = columns(ts)
    ci = c["capability_index"]
    w = _window(len(ci))
    end, before = ci[-1], ci[-1 - w] if len(ci) > w else ci[0]
    change = (end - before) / before if before > 0 else -1.0
    exits = int(c["exits"].sum())
    ended = int(c["relationships_ended"].sum())
    if exits or ended:
        parts = []
        if exits:
            parts.append(f"{exits} supplier(s) became insolvent (first in period {first_period(c, 'exits')})")
        if ended:
            parts.append(f"{ended} relationship(s) ended (first in period {first_period(c, 'relationships_ended')})")
        return Classification("collapse", "; ".join(parts))
    joint_start, joint_end = _edge_means(c["joint_value"], cycle)
    reference = growth_reference(joint_start, _edge_means(ci, cycle)[0])
    if reference > 0 and joint_end >= (1 + GROWTH) * reference:
        return Classification(
            "growth",
            f"joint value grew {100 * (joint_end / joint_start - 1):.0f}% from the first to the last contract cycle",
        )
    over = f"({100 * change:+.1f}% over the last {w} periods)"
    if end < SPIRAL_LEVEL and change < SETTLED:
        discount = c["discount_mean"]
        ratcheted = discount[-1] > discount[0] + 1e-6
        if change < 0:
            why = " while discounts ratcheted up" if ratcheted else ""
            return Classification("spiral", f"capability index {end:.2f}, still falling {over}{why}")
        return Classification("spiral", f"capability index {end:.2f}, stuck below {SPIRAL_LEVEL} {over}")
    if abs(change) < SETTLED:
        return Classification("equilibrium", f"capability index settled at {end:.2f} {over}")
    direction = "rising" if change > 0 else "falling"
    return Classification("drifting", f"capability index {end:.2f}, still {direction} {over}")


def growth_reference(joint_start: float, index_start: float) -> float:
    """The joint value growth is measured against: the start's, scaled up to the reference capability (1.0)
    when the suppliers start run down, so that recovering what was lost is not taken for growth."""
    return joint_start / min(1.0, index_start) if index_start > 0 else joint_start


def first_period(ts: pd.DataFrame | Series, column: str) -> int | None:
    c = columns(ts)
    hits = np.flatnonzero(c[column] > 0)
    return int(c["period"][hits[0]]) if hits.size else None


def _edge_means(values: np.ndarray, cycle: int) -> tuple[float, float]:
    n = max(1, min(cycle, len(values) // 2 or 1))
    return float(values[:n].mean()), float(values[-n:].mean())


def imbalance_phases(ts: pd.DataFrame | Series, band: tuple[float, float], periods: int) -> list[tuple[int, int, str]]:
    """Runs of at least ``periods`` in which the smoothed balance stays on one side outside the band.

    Each run is (first period, last period, side): side ``supplier`` when the supplier kept
    less than the band's lower bound (the customer took too much), ``customer`` when it
    kept more than the upper bound (the customer got too little for what it paid).
    """
    c = columns(ts)
    balance, p = c["balance_smoothed"], c["period"]
    side = np.where(balance < band[0], 1, np.where(balance > band[1], 2, 0))
    changes = np.flatnonzero(np.diff(side)) + 1
    starts = np.r_[0, changes]
    stops = np.r_[changes, len(side)]
    return [
        (int(p[a]), int(p[b - 1]), "supplier" if side[a] == 1 else "customer")
        for a, b in zip(starts, stops, strict=True)
        if len(side) and side[a] and b - a >= periods
    ]


def spiral_onset(ts: pd.DataFrame | Series, band: tuple[float, float], periods: int) -> int | None:
    """First period of the first run of ``periods`` in which the smoothed balance stays outside the band."""
    phases = imbalance_phases(ts, band, periods)
    return phases[0][0] if phases else None


def break_even_volume(discount: float, gross_margin: float) -> float | None:
    """Extra volume needed after a discount d at gross margin m to keep gross profit: d / (m - d)."""
    if discount >= gross_margin:
        return None
    return discount / (gross_margin - discount)


def retention_rate(start: int, end: int, new: int) -> float | None:
    """Customer retention rate CRR = (E - N) / S x 100 (source S5 in docs/sources.md)."""
    return None if start <= 0 else 100.0 * (end - new) / start


def lifetime_value(average_check: float, purchases_per_period: float, profitability: float, periods: float) -> float:
    """LTV = S x C x P x t (source S5 in docs/sources.md)."""
    return average_check * purchases_per_period * profitability * periods


def metrics(ts: pd.DataFrame | Series, model: Any) -> dict[str, Any]:
    """The summary metrics of one run (money in the scenario currency, totals over the horizon)."""
    c = columns(ts)
    st = model.state
    cycle = model.cycle
    onset = spiral_onset(c, model.fair_band, model.config.market.imbalance_periods)
    collapse_at = [p for p in (first_period(c, "exits"), first_period(c, "relationships_ended")) if p is not None]
    served_end = int((st.supplier >= 0).sum())
    start = int(st.customers_initial.sum())
    acquired = int(st.customers_acquired.sum())
    gm = float(np.average(model.sp.p["gross_margin"]))
    revenue_total = float(c["revenue"].sum())
    served_periods = float(c["customers_served"].sum())
    average_check = revenue_total / served_periods if served_periods else 0.0
    profitability = float(c["contribution"].sum()) / revenue_total if revenue_total else 0.0
    duration = served_periods / max(start + acquired, 1)
    out = {
        "capability_index_final": float(c["capability_index"][-1]),
        "capability_index_min": float(c["capability_index"].min()),
        "discount_final": float(c["discount_mean"][-1]),
        "discount_max": float(c["discount_mean"].max()),
        "supplier_margin_final": float(c["supplier_margin"][-1]),
        "supplier_profit_total": float(c["supplier_profit"].sum()),
        "supplier_cash_final": float(c["supplier_cash"][-1]),
        "customer_value_total": float(c["customer_value"].sum()),
        "supplier_value_total": float(c["supplier_value"].sum()),
        "joint_value_total": float(c["joint_value"].sum()),
        "joint_value_change": _relative_change(c["joint_value"], cycle),
        "engagement_value_total": float(c["engagement_value"].sum()),
        "overhead_fixed_total": float(c["overhead_fixed"].sum()),
        "investment_total": float(c["investment"].sum()),
        "investment_sustaining_total": float(c["investment_sustaining"].sum()),
        "capability_depletion_total": float(c["capability_depletion"].sum()),
        "balance_final": float(c["balance"][-1]),
        "retention_rate": retention_rate(start, served_end, 0),
        "retention_by_supplier": supplier_retention(model),
        "customers_final": served_end,
        "switches_total": int(c["switches"].sum()),
        "relationships_ended": int(c["relationships_ended"].sum()),
        "accounts_dropped": int(model.accounts_dropped),
        "accounts_noticed": int(model.accounts_noticed),
        "suppliers_exited": int(c["exits"].sum()),
        "redesign_and_switching_cost_total": float(c["transaction_cost"].sum()),
        "time_to_collapse": min(collapse_at) if collapse_at else None,
        "spiral_onset": onset,
        "imbalance_against": imbalance_side(c, model.fair_band, onset),
        "break_even_volume_increase": break_even_volume(float(c["discount_mean"][-1]), gm),
        "lifetime_value": lifetime_value(average_check, 1.0, profitability, duration),
    }
    return {k: _clean(v) for k, v in out.items()}


def supplier_retention(model: Any) -> list[float | None]:
    """CRR per supplier: its customers at the end less those it won from rivals, over those it started with."""
    st = model.state
    end = np.bincount(st.supplier[st.supplier >= 0], minlength=model.n_suppliers)
    return [
        retention_rate(int(s), int(e), int(n))
        for s, e, n in zip(st.customers_initial, end, st.customers_acquired, strict=True)
    ]


def imbalance_side(ts: pd.DataFrame | Series, band: tuple[float, float], onset: int | None) -> str | None:
    """Who the first sustained imbalance went against: 'supplier' (below the band) or 'customer' (above)."""
    if onset is None:
        return None
    c = columns(ts)
    at = int(np.flatnonzero(c["period"] == onset)[0])
    return "supplier" if c["balance_smoothed"][at] < band[0] else "customer"


def _relative_change(values: np.ndarray, cycle: int) -> float | None:
    start, end = _edge_means(values, cycle)
    return None if start <= 0 else end / start - 1.0


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
