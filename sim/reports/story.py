"""A run in plain words: the sentences a report, the terminal and a workbook show.

Every sentence is generated from the same numbers as the verdict badge and the key
figures (the summary and the market series), so the words cannot drift from the figures.
Where a sentence implies a sum (profit versus value, the counterfactual), the amounts
are shown in one unit and rounded so that the printed parts add up to the printed total.
Sentences are plain text; HTML output escapes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.engine.capabilities import CAPABILITIES
from sim.engine.outcomes import imbalance_phases
from sim.engine.population import baseline_margin
from sim.engine.schedule import initial_value
from sim.reports.fmt import Unit, count_phrase, money, pct, period_text, signed_pct, unit_for

CAPABILITY_WORDS = {"quality": "quality", "innovation": "R&D", "support": "support", "sales_coverage": "sales coverage"}
OUTCOME_WORDS = {
    "collapse": "Collapse: a supplier went under or relationships ended.",
    "spiral": "Death spiral: capabilities eroded and kept falling or stayed low.",
    "equilibrium": "Equilibrium: the exchange settled.",
    "growth": "Growth: co-created value rose.",
    "drifting": "Drifting: the market had not settled by the end of the horizon.",
}
STATE_WORDS = {
    "collapse": "Collapsed",
    "spiral": "In a death spiral",
    "equilibrium": "In equilibrium",
    "growth": "Growing",
    "drifting": "Still drifting",
}
NEGLIGIBLE = 0.005  # a shortfall below half a percent of plan is noise (churn), not a policy


# --------------------------------------------------------------------------- formatting


def when(period: int | None, per_year: int) -> str:
    """``period 26 (year 7)`` for a 0-based period."""
    return period_text(period, per_year)


def reconciled(total: float, parts: Sequence[float], unit: Unit, adjust: int) -> tuple[float, list[float]]:
    """Round ``total`` and signed ``parts`` (which sum to it) to one decimal of ``unit``, so the
    rounded parts sum exactly to the rounded total; part ``adjust`` absorbs the rounding."""
    div = unit[0] / (10 if unit[1] else 1)
    shown_total = round(total / div)
    shown = [round(p / div) for p in parts]
    shown[adjust] += shown_total - sum(shown)
    return shown_total * div, [s * div for s in shown]


def _change(value: float, currency: str, unit: Unit, more: str = "higher", less: str = "lower") -> str:
    return f"{money(abs(value), currency, unit)} {less if value < 0 else more}"


# --------------------------------------------------------------------------- sentences


def verdict(summary: dict[str, Any]) -> str:
    """The badge in words, with the rule that gave it."""
    detail = str(summary.get("outcome_detail") or "")
    words = OUTCOME_WORDS[summary["outcome"]]
    return f"{words} {detail[:1].upper()}{detail[1:]}." if detail else words


def outlook_sentence(summary: dict[str, Any]) -> str | None:
    """The verdict read with the outlook, e.g. 'In equilibrium for the 10 years shown; at this
    pace the market collapses in year 29 (period 113).'"""
    outlook = summary.get("outlook")
    if not outlook:
        return None
    per_year = summary["periods_per_year"]
    years = summary["periods"] / per_year
    shown = f"{years:g} year{'s' if years != 1 else ''} shown"
    outcome = summary["outcome"]
    at = summary.get("outlook_period")
    if outcome == "collapse":
        return f"Collapsed within the {shown}, in {when(at, per_year)}." if at is not None else None
    head = f"{STATE_WORDS[outcome]} for the {shown}"
    ci = summary.get("outlook_capability_index")
    settled = summary.get("outlook_settled_period")
    if outlook == "collapse":
        return f"{head}; at this pace the market collapses in {when(at, per_year)}: {summary.get('outlook_detail')}."
    if outlook == "spiral" and settled is not None:
        return (
            f"{head}; in the long run it stays stuck at a capability index of {ci:.2f} from "
            f"{when(settled, per_year)}: the capability trap."
        )
    if outlook == "spiral":
        return f"{head}; in the long run the spiral goes on (capability index {ci:.2f} and still falling)."
    if outlook in ("equilibrium", "growth"):
        same = "and it stays that way" if outlook == outcome else f"it then settles into {outlook}"
        return f"{head}; {same}: settled by {when(settled, per_year)} at a capability index of {ci:.2f}."
    return f"{head}; it has not settled {summary.get('outlook_detail', '').removeprefix('not settled ')}."


def balance_sentences(ts: pd.DataFrame, band: tuple[float, float], periods: int, per_year: int) -> list[str]:
    """When the exchange went out of balance, against whom, and why (the smoothed balance index)."""
    lo, hi = band
    fair = f"the fair band of {pct(lo)}-{pct(hi)}"
    phases = imbalance_phases(ts, band, periods)
    balance = ts["balance_smoothed"]
    last = float(ts["balance"].iloc[-1])
    if not phases:
        both = pd.concat([balance, ts["balance"]])
        inside = bool(((both >= lo) & (both <= hi)).all())
        if inside:
            return [f"The suppliers' share of the value created together stayed within {fair} throughout."]
        end = "" if lo <= last <= hi else f"; at the end the suppliers' share was {pct(last)}, outside it"
        briefly = (
            f"The suppliers' share of the value created together left {fair} only briefly "
            f"(never {periods} periods in a row){end}."
        )
        return [briefly]
    out = []
    end_period = int(ts["period"].iloc[-1])
    for first, stop, side in phases:
        until = "to the end" if stop == end_period else f"to {when(stop, per_year)}"
        span = balance[(ts["period"] >= first) & (ts["period"] <= stop)]
        if side == "supplier":
            out.append(
                f"From {when(first, per_year)} {until} the exchange was out of balance against the "
                f"suppliers: customers took most of the value created together (the suppliers kept as "
                f"little as {pct(float(span.min()))} of it, below {fair})."
            )
        else:
            out.append(
                f"From {when(first, per_year)} {until} the exchange was out of balance against the "
                f"customers: they got too little for what they paid, as capability cuts took back more "
                f"than the discounts gave (the suppliers kept up to {pct(float(span.max()))}, above {fair})."
            )
    return out


def investment_sentence(ts: pd.DataFrame, currency: str) -> str:
    """What the suppliers spent on their capabilities against their plans, and what that did."""
    planned = float(ts["investment_planned"].sum())
    spent = float((ts["investment"] - ts["gift_cost"]).sum())
    drawn = float(ts["capability_depletion"].sum())
    final = ts.iloc[-1]
    changes = ", ".join(f"{CAPABILITY_WORDS[k]} {signed_pct(final[k] - 1)}" for k in CAPABILITIES)
    if planned <= 0 or planned - spent <= NEGLIGIBLE * planned:
        return f"The suppliers kept investing what their plans called for. By the end: {changes}."
    unit = unit_for([planned - spent, drawn])
    drawn_words = (
        f", and drew down {money(drawn, currency, unit)} of capability capital (spending below what "
        "keeps their capabilities where they were; as capabilities fall, so does what sustaining them costs)"
        if drawn > 0
        else ""
    )
    return (
        f"To defend their margins the suppliers spent {money(planned - spent, currency, unit)} "
        f"({pct((planned - spent) / planned)}) less on quality, R&D, support and sales than planned"
        f"{drawn_words}. By the end: {changes}."
    )


def ledger_sentence(metrics: dict[str, Any], currency: str, years: float) -> str:
    """Profit (cash) and value (economic) side by side, with the identity that links them."""
    profit = metrics["supplier_profit_total"]
    value = metrics["supplier_value_total"]
    engagement = metrics["engagement_value_total"]
    overhead = metrics["overhead_fixed_total"]
    drawn = metrics["capability_depletion_total"]
    unit = unit_for([profit, value, engagement, overhead, drawn])
    total, (v, e, o, d) = reconciled(profit, [value, -engagement, -overhead, drawn], unit, adjust=3)
    drawn_words = "plus the capability capital drawn down" if d >= 0 else "less the capability capital built up"
    return (
        f"Over the {years:g} years the suppliers' profit (cash) was {money(total, currency, unit)}: the value "
        f"they kept from their customers ({money(v, currency, unit)}, after the investment their capabilities "
        f"need), less the non-cash value of customers' engagement ({money(-e, currency, unit)}) and fixed "
        f"overhead ({money(-o, currency, unit)}), {drawn_words} ({money(abs(d), currency, unit)})."
    )


def counterfactual_sentence(cf: dict[str, Any], currency: str) -> str:
    """What discounting cost each side against the same market without discounts; the values add up."""
    profit, sv, cv, joint = (
        cf["supplier_profit_difference"],
        cf["supplier_value_difference"],
        cf["customer_value_difference"],
        cf["joint_value_difference"],
    )
    unit = unit_for([profit, sv, cv, joint])
    joint_r, (sv_r, cv_r) = reconciled(joint, [sv, cv], unit, adjust=0 if abs(sv) >= abs(cv) else 1)
    return (
        f"Against the same market without discounts, the suppliers' profit (cash) was "
        f"{_change(profit, currency, unit)}, and the joint value was {_change(joint_r, currency, unit)}: "
        f"{_change(sv_r, currency, unit)} for the value the suppliers kept and "
        f"{_change(cv_r, currency, unit)} for the value customers received."
    )


def story(summary: dict[str, Any], ts: pd.DataFrame, scenario: Any) -> list[str]:
    """The run in plain sentences: verdict and outlook, balance, investment, ledger, cost, warnings."""
    m, cur, per_year = summary["metrics"], summary["currency"], summary["periods_per_year"]
    band = tuple(scenario.market.fair_band)
    lines = [verdict(summary)]
    ahead = outlook_sentence(summary)
    if ahead:
        lines.append(ahead)
    lines += balance_sentences(ts, band, scenario.market.imbalance_periods, per_year)
    lines.append(investment_sentence(ts, cur))
    lines.append(ledger_sentence(m, cur, summary["periods"] / per_year))
    cf = summary.get("counterfactual")
    if cf and m["discount_max"] > 0.001:
        lines.append(counterfactual_sentence(cf, cur))
    noticed, dropped = m.get("accounts_noticed") or 0, m.get("accounts_dropped") or 0
    if noticed:
        lines.append(
            f"Suppliers gave notice to {count_phrase(noticed, 'account')} that had not paid for their share of "
            "the upkeep of what they receive for two years or more (walk-away): their prices were corrected, "
            + (
                f"and {count_phrase(dropped, 'account')} that still did not pay their way were dropped and had "
                "to move and redesign."
                if dropped
                else "and none had to be dropped."
            )
        )
    if m["redesign_and_switching_cost_total"] > 0:
        lines.append(
            f"Customers paid {money(m['redesign_and_switching_cost_total'], cur)} for switching suppliers "
            "and redesigning around discontinued products."
        )
    bev = m["break_even_volume_increase"]
    if m["discount_final"] > 0.001:
        gm = sum(initial_value(g.gross_margin) * g.count for g in scenario.suppliers) / scenario.n_suppliers
        volume_change = ts["market_success_mean"].iloc[-1] - 1
        needed = pct(bev) if bev is not None else "more than any amount"
        lines.append(
            f"Break-even check: at the final average discount of {pct(m['discount_final'], 1)} and a gross "
            f"margin of {pct(gm)}, volume would have to rise by {needed} to keep gross profit; customers' "
            f"volume actually changed by {pct(volume_change, 1)}."
        )
    return lines


def loss_warnings(scenario: Any) -> list[str]:
    """A warning for each supplier group whose cost structure loses money at list price, before any discount."""

    return [
        f"Supplier group {g.name!r} loses money before any discount: its operating margin at list price is "
        f"{pct(baseline_margin(g), 1)} (gross margin minus planned spend, overhead and cost to serve)."
        for g in scenario.suppliers
        if baseline_margin(g) < 0
    ]
