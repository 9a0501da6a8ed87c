"""One renewal negotiation, vectorised over every relationship that renews this period.

Procurement states a demand (a discount level); over ``rounds`` alternating offers it
concedes linearly from that demand toward its reservation level (set by its best
alternative, its BATNA), while the supplier's strategy gives an offer per round. The
negotiation settles where the supplier's offers meet the buyer's asks, never above what
the buyer asks; with no meeting by the deadline the supplier's last offer stands and the
buyer decides at the switching stage whether to take it or leave. A strategy that holds
one offer through every round therefore settles at that offer (or at the demand, if it
offers more).

Offers and asks are *concession levels*: discount plus added service value, both as a
share of list price, so "gifts instead of discounts" is compared on the same scale.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass
class NegotiationContext:
    """What a strategy sees about the relationships it negotiates (arrays of equal length)."""

    level: np.ndarray  # current concession level: discount + gift / list price
    discount: np.ndarray  # current discount off list
    gift: np.ndarray  # current added service value per unit (money)
    demand: np.ndarray  # procurement's demanded level this renewal
    reservation: np.ndarray  # buyer's lowest acceptable level (from its alternatives)
    ceiling: np.ndarray  # supplier's highest acceptable level (account contribution >= 0)
    engagement: np.ndarray  # buyer's engagement (its non-monetary contribution)
    engagement_reference: float
    visibility: np.ndarray  # share of value procurement perceives
    perceived: np.ndarray  # value per unit procurement currently perceives
    value: np.ndarray  # value per unit actually delivered
    concession_rate: np.ndarray
    explain_rate: np.ndarray
    exponent: np.ndarray  # concession-curve exponent (NaN: the strategy's default)
    list_price: np.ndarray
    rounds: int

    def subset(self, mask: np.ndarray) -> NegotiationContext:
        """The same context restricted to the relationships where ``mask`` is true."""
        return replace(
            self,
            **{
                f.name: getattr(self, f.name)[mask]
                for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)
            },
        )

    @property
    def gap(self) -> np.ndarray:
        """How far the demand is above what the buyer already has (never negative)."""
        return np.maximum(self.demand - self.level, 0.0)

    @property
    def progress(self) -> np.ndarray:
        """Round times scaled to [0, 1]: 0 at the opening, 1 at the deadline."""
        if self.rounds == 1:
            return np.ones(1)
        return np.linspace(0.0, 1.0, self.rounds)


@dataclass
class Settlement:
    """What a renewal leaves behind for each relationship."""

    discount: np.ndarray
    gift: np.ndarray
    visibility: np.ndarray
    perceived: np.ndarray

    def update(self, mask: np.ndarray, part: Settlement) -> None:
        """Write a settlement covering the relationships where ``mask`` is true into this one."""
        for f in fields(self):
            getattr(self, f.name)[mask] = getattr(part, f.name)


def buyer_asks(ctx: NegotiationContext) -> np.ndarray:
    """The buyer's ask per round: linear concession from its demand to its reservation."""
    target = np.minimum(ctx.reservation, ctx.demand)
    return ctx.demand[:, None] - (ctx.demand - target)[:, None] * ctx.progress[None, :]


def settle_offers(offers: np.ndarray, asks: np.ndarray) -> np.ndarray:
    """Where the supplier's offers meet the buyer's asks; never beyond what the buyer asks.

    ``offers`` of shape (n,) are held through every round: they settle as they are, capped
    at the opening ask (a supplier never gives more than is demanded); below the buyer's
    reservation there is no deal and the held offer stands for the buyer to take or leave.
    Offers that move, shape (n, rounds), settle where the two curves cross: in the first
    round where the offer meets the ask, at the crossing of the straight lines joining
    that round to the one before (so the settlement lies between the two curves' values
    and equals the ask at that moment). With no meeting the last offer stands. A settled
    level below the current one (pressure has eased) is limited later by the ratchet.
    """
    if offers.ndim == 1:
        return np.minimum(offers, asks[:, 0])
    met = offers >= asks - 1e-12
    rows = np.arange(len(offers))
    last = offers.shape[1] - 1
    first = np.where(met.any(axis=1), met.argmax(axis=1), last)
    out = np.where(met.any(axis=1), asks[rows, first], offers[rows, last])
    between = met.any(axis=1) & (first > 0)
    if between.any():
        r, k = rows[between], first[between]
        o0, o1, a0, a1 = offers[r, k - 1], offers[r, k], asks[r, k - 1], asks[r, k]
        closing = (o1 - o0) - (a1 - a0)  # > 0: the offer was below the ask and is not any more
        frac = np.divide(a0 - o0, closing, out=np.ones_like(closing), where=closing > 0)
        out[r] = a0 + np.clip(frac, 0.0, 1.0) * (a1 - a0)
    return out
