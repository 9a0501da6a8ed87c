"""Supplier negotiation strategies (MODEL-SPEC section 4).

Each works on arrays of the relationships it governs. Offers are concession levels
(discount plus added service value as a share of list price), capped at the level where
the account's contribution would turn negative (the supplier's reservation value).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.engine.negotiation import NegotiationContext, Settlement
from sim.engine.strategies.base import SupplierStrategy


class Concede(SupplierStrategy):
    """Closes a share (concession_rate) of the gap to the demand at every renewal."""

    name = "concede"

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        return self.constant(ctx, ctx.level + ctx.concession_rate * (ctx.demand - ctx.level))


class Hold(SupplierStrategy):
    """Keeps its price and explains the value it funds; the buyer's perception moves to the actual value."""

    name = "hold"

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        return self.constant(ctx, ctx.level)

    def quote(self, going_discount, going_gift, acquisition_discount):
        """Quotes list price to new customers (less an explicit acquisition discount, if any)."""
        return acquisition_discount.copy(), np.zeros_like(going_gift)

    def settle(self, ctx: NegotiationContext, level: np.ndarray) -> Settlement:
        out = super().settle(ctx, level)
        out.visibility = ctx.visibility + ctx.explain_rate * (1.0 - ctx.visibility)
        out.perceived = ctx.perceived + ctx.explain_rate * (out.visibility * ctx.value - ctx.perceived)
        return out


class ValueTrade(SupplierStrategy):
    """Answers the demand with added service ("gifts instead of discounts") that costs it less than it is worth."""

    name = "value_trade"

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        return self.constant(ctx, ctx.level + ctx.concession_rate * (ctx.demand - ctx.level))

    def quote(self, going_discount, going_gift, acquisition_discount):
        """Quotes list price with the added service its customers get (gifts, not discounts)."""
        return acquisition_discount.copy(), going_gift

    def settle(self, ctx: NegotiationContext, level: np.ndarray) -> Settlement:
        out = super().settle(ctx, level)
        out.discount = ctx.discount.copy()
        out.gift = np.maximum(level - ctx.discount, 0.0) * ctx.list_price
        return out


class Reciprocal(SupplierStrategy):
    """Concedes only against the buyer's contribution (engagement above the reference), tit for tat."""

    name = "reciprocal"

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        room = max(1.0 - ctx.engagement_reference, 1e-9)
        given = np.clip((ctx.engagement - ctx.engagement_reference) / room, 0.0, 1.0)
        return self.constant(ctx, ctx.level + ctx.concession_rate * given * (ctx.demand - ctx.level))


class _TimeCurve(SupplierStrategy):
    """Time-dependent tactic of Faratin, Sierra & Jennings (1998): alpha(t) = t ** (1 / beta)."""

    default_exponent: float

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        beta = np.where(np.isnan(ctx.exponent), self.default_exponent, ctx.exponent)
        alpha = ctx.progress[None, :] ** (1.0 / beta[:, None])
        target = np.minimum(np.maximum(ctx.demand, ctx.level), np.maximum(ctx.ceiling, ctx.level))
        return ctx.level[:, None] + alpha * (target - ctx.level)[:, None]


class Boulware(_TimeCurve):
    """Holds firm and concedes only near the deadline (time curve with beta < 1, default 0.2)."""

    name = "boulware"
    default_exponent = 0.2


class Conceder(_TimeCurve):
    """Concedes early in each negotiation (time curve with beta > 1, default 5)."""

    name = "conceder"
    default_exponent = 5.0


class Played(SupplierStrategy):
    """Answers as a workshop team decides at each renewal: grant a discount, trade value, or hold."""

    name = "played"
    ANSWERS = ("discount", "value_trade", "hold")

    def __init__(self) -> None:
        self.answer = "hold"
        self.amount = 0.0  # concession added this renewal, as a share of list price

    def decide(self, answer: str, amount: float = 0.0) -> None:
        """Set the team's answer for the next renewals: an answer from ``ANSWERS`` and the points it adds."""
        if answer not in self.ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(self.ANSWERS)}, got {answer!r}")
        if not 0.0 <= amount <= 1.0:
            raise ValueError(f"amount is a share of list price between 0 and 1, got {amount}")
        self.answer, self.amount = answer, 0.0 if answer == "hold" else float(amount)

    def offers(self, ctx: NegotiationContext) -> np.ndarray:
        return ctx.level + self.amount

    def settle(self, ctx: NegotiationContext, level: np.ndarray) -> Settlement:
        return self._settlers[self.answer].settle(ctx, level)

    _settlers: ClassVar[dict[str, SupplierStrategy]] = {
        "discount": Concede(),
        "value_trade": ValueTrade(),
        "hold": Hold(),
    }
