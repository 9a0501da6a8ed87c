"""Registries and base classes for supplier strategies and procurement styles."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.engine.negotiation import NegotiationContext, Settlement, buyer_asks, settle_offers

SUPPLIER_STRATEGIES: dict[str, type[SupplierStrategy]] = {}
PROCUREMENT_STYLES: dict[str, type[ProcurementStyle]] = {}


def summary(cls: type) -> str:
    """The one-line description of a strategy or style (first line of its docstring)."""
    return (cls.__doc__ or "").strip().splitlines()[0]


class SupplierStrategy:
    """How a supplier answers a demand: an offer per round, then what the deal changes."""

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            SUPPLIER_STRATEGIES[cls.name] = cls

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        """Offered concession level per relationship: shape (n,) for one offer held through
        every round, or (n, rounds) for an offer that moves with time."""
        raise NotImplementedError

    def negotiate(self, ctx: NegotiationContext) -> Settlement:
        """One renewal: this strategy's offers against the buyer's asks, settled and turned into terms."""
        return self.settle(ctx, settle_offers(self.offers(ctx), buyer_asks(ctx)))

    def quote(
        self, going_discount: np.ndarray, going_gift: np.ndarray, acquisition_discount: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Terms quoted to a rival's customer: by default the going price (the average terms of
        the supplier's own customers), or ``acquisition_discount`` off list if that is deeper."""
        return np.maximum(going_discount, acquisition_discount), going_gift

    def settle(self, ctx: NegotiationContext, level: np.ndarray) -> Settlement:
        """Turn the settled level into price terms; by default all of it is discount."""
        return Settlement(
            discount=level - ctx.gift / ctx.list_price,
            gift=ctx.gift.copy(),
            visibility=ctx.visibility.copy(),
            perceived=ctx.perceived.copy(),
        )

    @staticmethod
    def constant(ctx: NegotiationContext, level: np.ndarray) -> np.ndarray:
        """One offer held through every round, never above what the account can bear."""
        return np.minimum(level, np.maximum(ctx.ceiling, ctx.level))


class ProcurementStyle:
    """A procurement preset: the demand-formula weights and the engagement it offers."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, float]]
    engagement: ClassVar[float]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            PROCUREMENT_STYLES[cls.name] = cls
