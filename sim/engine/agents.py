"""Mesa agents: the readable identity and inspection layer over the model's arrays.

The per-period arithmetic runs vectorised in :class:`sim.engine.model.ProcurementModel`; a
``Supplier`` or ``Customer`` is a view on one row of those arrays, so
``customer.discount`` or ``supplier.capabilities`` always shows the live state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.engine.capabilities import CAPABILITIES

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel


class Supplier(mesa.Agent):
    """A supplier: cost structure, cash, four capability stocks and a negotiation strategy."""

    model: ProcurementModel

    def __init__(self, model: ProcurementModel, index: int, group: str, strategy: str):
        super().__init__(model)
        self.index = index
        self.group = group
        self.strategy = strategy

    @property
    def active(self) -> bool:
        return bool(self.model.state.active[self.index])

    @property
    def cash(self) -> float:
        return float(self.model.state.cash[self.index])

    @property
    def margin(self) -> float:
        """Operating margin of the last period."""
        return float(self.model.state.margin[self.index])

    @property
    def capabilities(self) -> dict[str, float]:
        return dict(zip(CAPABILITIES, self.model.state.capability[self.index].tolist(), strict=True))

    @property
    def customers(self) -> list[Customer]:
        rows = (self.model.state.supplier == self.index).nonzero()[0]
        return [self.model.customer_agents[i] for i in rows]

    @property
    def exit_period(self) -> int | None:
        period = int(self.model.state.exit_period[self.index])
        return None if period < 0 else period

    def __repr__(self) -> str:
        return f"Supplier({self.unique_id}, {self.group}, {self.strategy}, cash={self.cash:,.0f})"


class Customer(mesa.Agent):
    """A customer: its segment, its current supplier and the terms and value of that relationship."""

    model: ProcurementModel

    def __init__(self, model: ProcurementModel, index: int, group: str):
        super().__init__(model)
        self.index = index
        self.group = group

    @property
    def supplier(self) -> Supplier | None:
        s = int(self.model.state.supplier[self.index])
        return None if s < 0 else self.model.supplier_agents[s]

    def _get(self, name: str) -> float:
        return float(getattr(self.model.state, name)[self.index])

    discount = property(lambda self: self._get("discount"), doc="Discount off list price.")
    gift = property(lambda self: self._get("gift"), doc="Added service value per unit (value_trade).")
    value = property(lambda self: self._get("value"), doc="Value per unit delivered last period.")
    market_success = property(lambda self: self._get("market_success"), doc="Own market success G (1 = baseline).")
    trust = property(lambda self: self._get("trust"), doc="Trust in the supplier, 0..1.")
    engagement = property(lambda self: self._get("engagement"), doc="Engagement given to the supplier, 0..1.")
    cocreation = property(
        lambda self: self._get("cocreation"), doc="Co-created value multiplier on innovation and support."
    )
    balance = property(
        lambda self: self._get("balance_smoothed"), doc="Smoothed share of joint value the supplier keeps."
    )

    def __repr__(self) -> str:
        sup = self.supplier
        return f"Customer({self.unique_id}, {self.group}, supplier={sup.unique_id if sup else None}, discount={self.discount:.3f})"
