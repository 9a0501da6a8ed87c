"""Per-account totals over a run, added up in float64 after every period, so they sum to the market series.

The per-account table of a report (discount, volume, profit contribution, value to each
side, switched or lost, and why) and your company's profit come from here rather than
from the float32 agent records, so a table's total row equals the market totals exactly.
An ensemble is added up as one set of arrays and split into each market's totals at the
end (:meth:`AccountTotals.split`); every figure is an elementwise sum, so a market's totals
are exactly those of its single run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.accounts import YOU
from sim.engine.recorder import MOVE_REASONS

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel

SUMMED = ("volume", "contribution", "customer_value", "supplier_value")
# What makes up a customer's value (V_c = what it receives - what it pays - switching and redesign), summed
# per customer: the channels through which a change reaches an account (docs/model.md, stage 3).
CHANNELS = ("paid", "capabilities", "withheld", "cocreated", "gifts", "transaction")


@dataclass
class AccountTotals:
    """Running sums per customer (N) and profit per supplier (S); demands and discounts per period when tracked.

    ``yours`` is each customer's profit to you (the first supplier) while it bought from you
    (see :meth:`_your_profit`); ``reasons`` counts each customer's moves by reason (``MOVE_REASONS``);
    ``profits`` holds every supplier's profit in every period (for costs per year and NPVs);
    ``channels`` the parts of each customer's value (``CHANNELS``: what it paid, what the
    supplier's capabilities delivered, the service withheld from it, co-created value, added
    service, switching and redesign costs), so ``customer_value`` is
    ``capabilities - withheld + cocreated + gifts - paid - transaction``.
    """

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
    peers: np.ndarray | None = None  # the peer links as undirected edges (E, 2) of customer indices
    yours: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reasons: np.ndarray = field(default_factory=lambda: np.zeros((0, len(MOVE_REASONS)), dtype=np.int32))
    profits: list[np.ndarray] = field(default_factory=list)
    channels: np.ndarray = field(default_factory=lambda: np.zeros((0, len(CHANNELS))))

    @classmethod
    def start(cls, model: ProcurementModel, track: bool = False) -> AccountTotals:
        """Totals of ``model`` (one market or a whole ensemble) from its current state; moves are logged from now."""
        n, s = model.n_customers, model.n_suppliers
        st = model.state
        model.recorder.move_log = []
        return cls(
            *(np.zeros(n) for _ in SUMMED),
            supplier_profit=np.zeros(s),
            initial_supplier=st.supplier.copy(),
            switched=np.zeros(n, dtype=bool),
            discount=st.discount.copy(),
            supplier=st.supplier.copy(),
            track=track,
            peers=model.network.edges if model.n_members == 1 else None,
            yours=np.zeros(n),
            reasons=np.zeros((n, len(MOVE_REASONS)), dtype=np.int32),
            channels=np.zeros((n, len(CHANNELS))),
        )

    def observe(self, model: ProcurementModel) -> None:
        """Add one period's flows (call after each step)."""
        st = model.state
        self.volume += st.volume
        self.contribution += st.contribution
        self.customer_value += st.customer_value
        self.supplier_value += st.supplier_value
        self.supplier_profit += st.profit  # an exiting supplier's last period counts too
        self.profits.append(st.profit.copy())
        self.yours += self._your_profit(model)
        q = st.volume
        gifts = st.value - st.value_capability + st.value_withheld - st.value_cocreated
        self.channels[:, 0] += st.paid
        for k, part in enumerate((st.value_capability, st.value_withheld, st.value_cocreated, gifts), start=1):
            self.channels[:, k] += part * q
        self.channels[:, 5] += st.transaction_cost
        self.switched |= (st.supplier != self.initial_supplier) & (st.supplier >= 0)
        self.discount = st.discount.copy()
        self.supplier = st.supplier.copy()
        log = model.recorder.move_log
        if log:
            for rows, why in log:
                np.add.at(self.reasons, (rows, why), 1)
            log.clear()
        if self.track:
            self.demand.append(st.demand.astype(np.float32))
            self.discounts.append(st.discount.astype(np.float32))

    def _your_profit(self, model: ProcurementModel) -> np.ndarray:
        """Each customer's profit to you this period: its contribution less its share of your investment and overhead.

        The period's flows went to the supplier of its start (renewals move customers at its
        end). Your costs beyond the customers' contributions (investment, fixed overhead) are
        shared by list-price volume, so a market's customers add up to your profit whenever
        you sell at all.
        """
        st = model.state
        mine = self.supplier == YOU
        contribution = np.where(mine, st.contribution, 0.0)
        volume = np.where(mine, st.volume, 0.0)
        member, markets = model.cust_member, model.n_members
        costs = np.bincount(member, contribution, minlength=markets) - st.profit[model.sup_start]
        sold = np.bincount(member, volume, minlength=markets)
        per_unit = np.divide(costs, sold, out=np.zeros(markets), where=sold > 0)
        return contribution - volume * per_unit[member]

    def split(self, model: ProcurementModel) -> list[AccountTotals]:
        """Each market's totals (an ensemble's, in market order); a one-market model's are these."""
        if model.n_members == 1:
            return [self]
        out = []
        for market in model.markets:
            c, s = market.customers, market.suppliers
            out.append(
                AccountTotals(
                    *(getattr(self, name)[c].copy() for name in SUMMED),
                    supplier_profit=self.supplier_profit[s].copy(),
                    initial_supplier=self.initial_supplier[c].copy(),
                    switched=self.switched[c].copy(),
                    discount=self.discount[c].copy(),
                    supplier=self.supplier[c].copy(),
                    track=self.track,
                    demand=[d[c] for d in self.demand],
                    discounts=[d[c] for d in self.discounts],
                    peers=market.network.edges,
                    yours=self.yours[c].copy(),
                    reasons=self.reasons[c].copy(),
                    profits=[p[s] for p in self.profits],
                    channels=self.channels[c].copy(),
                )
            )
        return out

    def status(self, you: int = 0) -> np.ndarray:
        """Per customer at the end: ``stayed``, ``switched`` (to another supplier) or ``left`` (the market)."""
        out = np.full(self.volume.size, "stayed", dtype=object)
        out[self.switched & (self.supplier != self.initial_supplier)] = "switched"
        out[self.supplier < 0] = "left"
        return out
