"""The phase a running market is in, named in plain words as it happens.

Checked in order, on the series recorded so far (thresholds are documented in
docs/workshop.md and tested):

1. collapse: a supplier exited or relationships ended;
2. spiral: capabilities are below 90% of where they started, fell over the last
   contract cycle, and the discount did not fall;
3. cutting investment: the supplier spends less than 97% of what sustains its
   capabilities;
4. imbalance building: the smoothed balance is outside the fair band, or the discount
   rose over the last contract cycle;
5. balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SPIRAL_CAPABILITY = 0.90
CUTTING_SHARE = 0.97
# A discount "rises" when it gained at least a tenth of a point over the last contract cycle: the big number
# shows one decimal, and a balanced market's creep of a few hundredths of a point is no story to tell a room.
RISING_DISCOUNT = 0.001


@dataclass(frozen=True)
class Phase:
    """A phase: its key, the words on screen and a colour."""

    key: str
    label: str
    color: str
    explanation: str


PHASES = {
    "balanced": Phase(
        "balanced",
        "Balanced",
        "#1d4ed8",
        "Value flows both ways: the supplier earns a fair margin and keeps investing.",
    ),
    "imbalance": Phase(
        "imbalance",
        "Imbalance building",
        "#ca8a04",
        "Discounts are rising or one side takes more than its fair share of the value.",
    ),
    "cutting": Phase(
        "cutting",
        "Cutting investment",
        "#ea580c",
        "To restore its margin the supplier spends less on quality, R&D, support and sales "
        "than its capabilities need. Nothing shows yet: the damage arrives with a lag.",
    ),
    "spiral": Phase(
        "spiral",
        "Death spiral",
        "#b91c1c",
        "Capabilities are eroding, the customer receives less value, and procurement pushes for still more discount.",
    ),
    "collapse": Phase(
        "collapse",
        "Collapse",
        "#7f1d1d",
        "A supplier went under or relationships ended: customers pay for switching and redesign.",
    ),
}


def phase_of(ts: pd.DataFrame, cycle: int, band: tuple[float, float]) -> Phase:
    """The phase of the market given its series so far (``ts`` as the recorder gives it)."""
    if ts.empty:
        return PHASES["balanced"]
    last = ts.iloc[-1]
    if ts["exits"].sum() > 0 or ts["relationships_ended"].sum() > 0:
        return PHASES["collapse"]
    before = ts.iloc[max(len(ts) - 1 - cycle, 0)]
    capability_falling = last["capability_index"] < before["capability_index"] - 1e-9
    discount_rising = last["discount_mean"] >= before["discount_mean"] + RISING_DISCOUNT
    if (
        last["capability_index"] < SPIRAL_CAPABILITY
        and capability_falling
        and last["discount_mean"] >= before["discount_mean"]
    ):
        return PHASES["spiral"]
    if last["investment_desired"] > 0 and last["investment"] < CUTTING_SHARE * last["investment_desired"]:
        return PHASES["cutting"]
    if not band[0] <= last["balance_smoothed"] <= band[1] or discount_rising:
        return PHASES["imbalance"]
    return PHASES["balanced"]
