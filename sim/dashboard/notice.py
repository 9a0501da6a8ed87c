"""'Things to notice': sentences about what the market on screen shows now, never what it might show.

Before Play, what the chosen scenario sets up (its story, the buyer's target, the supplier's
answer) and where to look; once it plays, one sentence per chart read from the series so far
(a sentence says the balance is inside the fair band only when it is), and the question the
phase invites. Each sentence is checked against its condition, so a squeeze scenario never
promises balance before anything has happened.
"""

from __future__ import annotations

import pandas as pd

from sim.dashboard import labels
from sim.dashboard.phase import CUTTING_SHARE
from sim.dashboard.session import Frame
from sim.inputs.schema import Scenario

QUESTIONS = {
    "cutting": "Ask: who in the customer's organisation can see this happening?",
    "spiral": "Compare joint value with where it started: both sides are now poorer.",
    "collapse": "Run the same seed while holding the price, side by side, to see the road not taken.",
}


def before_play(scenario: Scenario) -> list[str]:
    """What the chosen scenario sets up, and where to look when it plays."""
    buyer = scenario.customers[0].procurement.resolved()
    story = (scenario.description or "").strip().splitlines()
    out = [story[0]] if story else []
    target = f" with a savings target of {buyer.savings_target:.0%}" if buyer.savings_target > 0 else ""
    out.append(
        f"Procurement buys {labels.style(buyer.style).lower()}{target}; the supplier's answer: "
        f"{labels.strategy(scenario.suppliers[0].strategy).lower()}."
    )
    out.append("Press Play and watch the discount first, then the supplier's margin, investment and capabilities.")
    return out


def while_playing(frame: Frame, band: tuple[float, float]) -> list[str]:
    """One sentence per thing the series shows now, each only when it is true."""
    ts: pd.DataFrame = frame.series
    first, last = ts.iloc[0], ts.iloc[-1]
    out = []
    granted, demanded = float(last["discount_mean"]), float(last["demand_mean"])
    if demanded > granted + 0.005:
        out.append(
            f"Procurement demands {demanded:.1%} and is granted {granted:.1%}: the demand runs ahead of the discount."
        )
    else:
        out.append(f"The discount granted is {granted:.1%}, as much as procurement demands.")
    margin, margin0 = float(last["supplier_margin"]), float(first["supplier_margin"])
    if margin < margin0 - 0.005:
        out.append(f"The supplier's margin fell from {margin0:.1%} to {margin:.1%}: discounts come straight out of it.")
    need, spent = float(last["investment_desired"]), float(last["investment"])
    if need > 0 and spent < CUTTING_SHARE * need:
        out.append(f"Investment is {spent / need:.0%} of what the capabilities need: they erode, with a lag.")
    elif need > 0:
        out.append("Investment covers what the capabilities need.")
    capability = float(last["capability_index"])
    if capability < 0.98:
        out.append(f"Capabilities are at {capability:.2f} of where they started, and the value delivered with them.")
    balance = float(last["balance_smoothed"])
    inside = band[0] <= balance <= band[1]
    out.append(
        "The balance of the exchange is inside the green band."
        if inside
        else f"The balance of the exchange ({balance:.0%} to the supplier) has left the green band."
    )
    if frame.phase.key in QUESTIONS:
        out.append(QUESTIONS[frame.phase.key])
    return out


def notices(frame: Frame, scenario: Scenario) -> list[str]:
    """What to point at now: the scenario's set-up before Play, the series' state while it plays."""
    if frame.series.empty:
        return before_play(scenario)
    return while_playing(frame, scenario.market.fair_band)
