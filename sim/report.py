"""Self-contained HTML reports: the outcome in plain words, key figures and the charts.

A trainer should be able to put the report on screen: what happened, when the exchange
went out of balance, what the supplier cut, and what it cost each side compared with
the same market without discounts. Images are embedded, so the file travels alone.

Reports are shared, so user text (names, descriptions, the currency) is always escaped,
and every page carries a Content-Security-Policy that allows no script at all: even a
value that slipped through could not run.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .capabilities import CAPABILITIES

if TYPE_CHECKING:
    from .runner import ReplicateResult, RunResult

CAPABILITY_NAMES = {
    "quality": "quality",
    "innovation": "R&D (innovation)",
    "support": "support",
    "sales_coverage": "sales coverage",
}
OUTCOME_COLORS = {"collapse": "#b91c1c", "spiral": "#c2410c", "equilibrium": "#1d4ed8", "growth": "#15803d"}
OUTCOME_WORDS = {
    "collapse": "Collapse: a supplier went under or relationships ended.",
    "spiral": "Death spiral: capabilities eroded while discounts ratcheted up.",
    "equilibrium": "Equilibrium: the exchange settled.",
    "growth": "Growth: co-created value rose.",
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1f2937;line-height:1.5}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
.sub{color:#6b7280;margin-top:0}.badge{display:inline-block;padding:.3rem .8rem;border-radius:999px;color:#fff;font-weight:600}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.3rem .8rem;border-bottom:1px solid #e5e7eb;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;height:auto}
.story p{font-size:1.05rem}
footer{margin-top:3rem;color:#6b7280;font-size:.85rem}
"""


# No scripts, no external resources: only the embedded images and the page's own styles.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def money(value: float | None, currency: str, *, escape: bool = True) -> str:
    """A money amount with a k/M/B suffix, e.g. ``EUR 12.3M``; HTML-escaped unless ``escape=False`` (plain text)."""
    if value is None:
        return "n/a"
    if escape:
        currency = html.escape(currency)
    sign = "-" if value < 0 else ""
    v = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{sign}{currency} {v / div:,.1f}{suffix}"
    return f"{sign}{currency} {v:,.0f}"


def pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def when(period: int | None, per_year: int) -> str:
    """'period 26 (year 7)' for a 0-based period."""
    if period is None:
        return "never"
    return f"period {period} (year {period // per_year + 1})"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def story(summary: dict[str, Any], ts: pd.DataFrame, model: Any) -> list[str]:
    """The run in a few plain sentences (what happened, when, what was cut, what it cost)."""
    m, cur, per_year = summary["metrics"], summary["currency"], summary["periods_per_year"]
    detail = summary["outcome_detail"]
    lines = [f"<b>{OUTCOME_WORDS[summary['outcome']]}</b> {html.escape(detail[:1].upper() + detail[1:])}."]
    onset = m["spiral_onset"]
    lo, hi = model.fair_band
    if onset is None:
        lines.append(
            f"The exchange stayed in balance: the suppliers' share of the joint value never left the fair "
            f"band of {pct(lo)}-{pct(hi)} for long."
        )
    else:
        if ts["balance_smoothed"].iloc[onset] < lo:
            why = (
                "customers took most of the value created together, and the suppliers were no longer paid enough "
                "to keep investing"
            )
        else:
            why = (
                "customers got too little value for what they paid: capability cuts took back more than the "
                "discounts gave"
            )
        lines.append(f"The exchange went out of balance in {when(onset, per_year)} and stayed out: {why}.")
    desired, spent = ts["investment_desired"].sum(), ts["investment"].sum()
    if desired > 0 and desired - spent > 1e-6 * desired:
        final = ts.iloc[-1]
        cuts = ", ".join(f"{CAPABILITY_NAMES[k]} {100 * (final[k] - 1):+.0f}%" for k in CAPABILITIES)
        lines.append(
            f"To defend their margins the suppliers cut investment by {money(desired - spent, cur)} "
            f"({pct((desired - spent) / desired)} of what their budgets called for). By the end: {cuts}."
        )
    else:
        lines.append("Suppliers kept investing what their budgets called for; no capability was cut.")
    cf = summary.get("counterfactual")
    if cf:
        lines.append(
            f"Against the same market without discounts, suppliers earned {money(abs(cf['supplier_profit_difference']), cur)} "
            f"{'less' if cf['supplier_profit_difference'] < 0 else 'more'} profit and customers received "
            f"{money(abs(cf['customer_value_difference']), cur)} {'less' if cf['customer_value_difference'] < 0 else 'more'} "
            f"value (joint value {money(cf['joint_value_difference'], cur)})."
        )
    if m["redesign_and_switching_cost_total"] > 0:
        lines.append(
            f"Customers paid {money(m['redesign_and_switching_cost_total'], cur)} for switching suppliers and "
            "redesigning around discontinued products."
        )
    bev = m["break_even_volume_increase"]
    if m["discount_final"] > 0.001:
        gm = float(np.average(model.sp.p["gross_margin"]))
        volume_change = ts["market_success_mean"].iloc[-1] - 1
        lines.append(
            f"Break-even check: at the final average discount of {pct(m['discount_final'], 1)} and a gross margin of "
            f"{pct(gm)}, volume would have to rise by "
            f"{pct(bev) if bev is not None else 'more than any amount'} to keep gross profit; customers' volume "
            f"actually changed by {pct(volume_change, 1)}."
        )
    return lines


KEY_METRICS = (
    ("capability_index_final", "Capability index at the end", "index"),
    ("capability_index_min", "Lowest capability index", "index"),
    ("discount_final", "Average discount at the end", "pct"),
    ("supplier_margin_final", "Supplier operating margin at the end", "pct"),
    ("supplier_profit_total", "Supplier profit over the horizon", "money"),
    ("customer_value_total", "Customer value over the horizon", "money"),
    ("joint_value_total", "Joint value over the horizon", "money"),
    ("balance_final", "Balance index at the end (supplier share)", "pct"),
    ("retention_rate", "Customer retention rate CRR", "rate"),
    ("lifetime_value", "Customer lifetime value LTV (per customer)", "money"),
    ("redesign_and_switching_cost_total", "Customers' switching and redesign costs", "money"),
    ("time_to_collapse", "Period of collapse", "period"),
    ("spiral_onset", "Period the imbalance began", "period"),
)


def _fmt(value: Any, kind: str, currency: str) -> str:
    if value is None:
        return "none"
    return {
        "index": f"{value:.3f}",
        "pct": pct(value, 1),
        "money": money(value, currency),
        "rate": f"{value:.0f}%",
        "period": str(value),
    }[kind]


def _metrics_table(metrics: dict[str, Any], currency: str) -> str:
    rows = "".join(
        f"<tr><td>{label}</td><td class='num'>{_fmt(metrics.get(key), kind, currency)}</td></tr>"
        for key, label, kind in KEY_METRICS
    )
    return f"<table>{rows}</table>"


def page(title: str, body: str, footer: str) -> str:
    """A self-contained HTML page; ``title`` is plain text, ``body`` and ``footer`` are HTML already escaped."""
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\"><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
        f"<body>{body}<footer>{footer}</footer></body></html>\n"
    )


def _footer(seed_text: str) -> str:
    from . import __version__

    return (
        f"procsim {__version__} &middot; {seed_text} &middot; model and assumptions: docs/model.md &middot; "
        "sources: ../shared/seeds (value exchange and discounting)"
    )


def run_report(result: RunResult, figures: dict[str, Path]) -> str:
    """The HTML report of one run."""
    s = result.summary
    color = OUTCOME_COLORS[s["outcome"]]
    events = (
        "".join(f"<li>{when(e['period'], s['periods_per_year'])}: {html.escape(e['event'])}</li>" for e in s["events"])
        or "<li>none</li>"
    )
    body = (
        f"<h1>{html.escape(s['scenario'])}</h1><p class='sub'>{html.escape(s['description'])}</p>"
        f"<p><span class='badge' style='background:{color}'>{html.escape(s['outcome'])}</span> &nbsp; "
        f"{s['suppliers']} suppliers, {s['customers']} customers, {s['periods']} periods "
        f"({s['periods'] / s['periods_per_year']:.0f} years), seed {s['seed']}</p>"
        f"<h2>What happened</h2><div class='story'>{''.join(f'<p>{line}</p>' for line in story(s, result.timeseries, result.model))}</div>"
        f"<h2>At a glance</h2>{_img(figures['overview'], 'overview')}"
        f"<h2>Key figures</h2>{_metrics_table(s['metrics'], s['currency'])}"
        f"<h2>Events</h2><ul>{events}</ul>"
    )
    return page(f"procsim: {s['scenario']}", body, _footer(f"seed {s['seed']}"))


def replicate_report(result: ReplicateResult, figures: dict[str, Path]) -> str:
    """The HTML report of a replicated run: outcome counts, metric spreads and fan charts."""
    s = result.summary
    cur = s["currency"]
    rows = "".join(
        f"<tr><td>{label}</td>"
        + "".join(f"<td class='num'>{_fmt(s['metrics'][key][q], kind, cur)}</td>" for q in ("mean", "p10", "p90"))
        + "</tr>"
        for key, label, kind in KEY_METRICS
    )
    counts = ", ".join(f"{o}: {n}" for o, n in s["outcomes"].items())
    body = (
        f"<h1>{html.escape(s['scenario'])}</h1><p class='sub'>{html.escape(s['description'])}</p>"
        f"<p><span class='badge' style='background:{OUTCOME_COLORS[s['outcome']]}'>{html.escape(s['outcome'])}</span> &nbsp; "
        f"most common outcome over {s['replicates']} replicates ({counts})</p>"
        f"<h2>Outcomes</h2>{_img(figures['outcomes'], 'outcome counts')}"
        f"<h2>At a glance (median and 10-90% band)</h2>{_img(figures['overview'], 'overview')}"
        f"<h2>Key figures</h2><table><tr><th></th><th>mean</th><th>10%</th><th>90%</th></tr>{rows}</table>"
    )
    return page(
        f"procsim: {s['scenario']} x{s['replicates']}",
        body,
        _footer(f"base seed {s['seed']}, {s['replicates']} derived seeds"),
    )
