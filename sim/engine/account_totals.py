"""Per-account totals over a run, added up in float64 after every period, so they sum to the market series.

The per-account table of a report (discount, volume, profit contribution, value to each
side, switched or lost) and your company's profit come from here rather than from the
float32 agent records, so a table's total row equals the market totals exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel

SUMMED = ("volume", "contribution", "customer_value", "supplier_value")


@dataclass
class AccountTotals:
    """Running sums per customer (N) and profit per supplier (S); ``demand`` per period when tracked."""

    volume: np.ndarray
    contribution: np.ndarray
    customer_value: np.ndarray
    supplier_value: np.ndarray
    supplier_profit: np.ndarray
    initial_supplier: np.ndarray
    switched: np.ndarray  # ever moved to another supplier
    discount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # at the end
    supplier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # at the end (-1: left)
    track: bool = False
    demand: list[np.ndarray] = field(default_factory=list)
    discounts: list[np.ndarray] = field(default_factory=list)
    peers: np.ndarray | None = None  # the peer table (max degree, N), kept for parity counts

    @classmethod
    def start(cls, model: ProcurementModel, track: bool = False) -> AccountTotals:
        n, s = model.n_customers, model.n_suppliers
        st = model.state
        return cls(
            *(np.zeros(n) for _ in SUMMED),
            supplier_profit=np.zeros(s),
            initial_supplier=st.supplier.copy(),
            switched=np.zeros(n, dtype=bool),
            track=track,
            peers=model.network.peers.copy() if track else None,
        )

    def observe(self, model: ProcurementModel) -> None:
        """Add one period's flows (call after each step)."""
        st = model.state
        self.volume += st.volume
        self.contribution += st.contribution
        self.customer_value += st.customer_value
        self.supplier_value += st.supplier_value
        self.supplier_profit += st.profit  # an exiting supplier's last period counts too
        self.switched |= (st.supplier != self.initial_supplier) & (st.supplier >= 0)
        self.discount = st.discount.copy()
        self.supplier = st.supplier.copy()
        if self.track:
            self.demand.append(st.demand.astype(np.float32))
            self.discounts.append(st.discount.astype(np.float32))

    def status(self, you: int = 0) -> np.ndarray:
        """Per customer at the end: ``stayed``, ``switched`` (to another supplier) or ``left`` (the market)."""
        out = np.full(self.volume.size, "stayed", dtype=object)
        out[self.switched & (self.supplier != self.initial_supplier)] = "switched"
        out[self.supplier < 0] = "left"
        return out
