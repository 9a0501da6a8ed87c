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

import pandas as pd

from sim.inputs.grants import describe
from sim.reports.fmt import count_words, money, pct, period_text
from sim.reports.labels import KEY_FIGURES, METRICS
from sim.reports.story import OUTCOME_WORDS, loss_warnings, story
from sim.version import __version__

__all__ = ["OUTCOME_WORDS", "count_words", "loss_warnings", "money", "pct", "story", "when"]

if TYPE_CHECKING:
    from sim.runs.runner import ReplicateResult, RunResult

OUTCOME_COLORS = {
    "collapse": "#b91c1c",
    "spiral": "#c2410c",
    "equilibrium": "#1d4ed8",
    "growth": "#15803d",
    "drifting": "#6b7280",
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1f2937;line-height:1.5}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
.sub{color:#6b7280;margin-top:0}.badge{display:inline-block;padding:.3rem .8rem;border-radius:999px;color:#fff;font-weight:600}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.3rem .8rem;border-bottom:1px solid #e5e7eb;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;height:auto}
.story p{font-size:1.05rem}
.changes{background:#f3f4f6;border-radius:.5rem;padding:.5rem 1rem;margin:.5rem 0}.changes li{font-family:ui-monospace,monospace}
.warning{background:#fef3c7;border-left:4px solid #d97706;padding:.5rem 1rem;margin:.5rem 0}
.answer{font-size:1.3rem;font-weight:600;background:#eff6ff;border-left:6px solid #1d4ed8;padding:1rem 1.2rem;margin:1rem 0}
.wide{overflow-x:auto}table.accounts{font-size:.85rem}table.accounts th{vertical-align:bottom}
tr.reached td{background:#fef3c7}tr.total td{font-weight:700;border-top:2px solid #9ca3af}
footer{margin-top:3rem;color:#6b7280;font-size:.85rem}
"""


# No scripts, no external resources: only the embedded images and the page's own styles.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def when(period: int | None, per_year: int) -> str:
    """'period 26 (year 7)' for a 0-based period."""
    return period_text(period, per_year)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def story_html(summary: dict[str, Any], ts: pd.DataFrame, scenario: Any) -> str:
    """The plain-words story as escaped paragraphs, the verdict and outlook in bold."""
    lines = story(summary, ts, scenario)
    lead = 2 if summary.get("outlook_detail") else 1
    return "".join(
        f"<p>{'<b>' if i < lead else ''}{html.escape(line)}{'</b>' if i < lead else ''}</p>"
        for i, line in enumerate(lines)
    )


# The key figures every report shows, with their labels and kinds from the one label table.
KEY_METRICS = tuple((key, METRICS[key][0], METRICS[key][1]) for key in KEY_FIGURES)


def _fmt(value: Any, kind: str, currency: str, per_year: int = 4) -> str:
    """A metric for an HTML table cell (escaped: the currency is user text)."""
    return html.escape(fmt_metric(value, kind, currency, per_year))


def fmt_metric(value: Any, kind: str, currency: str, per_year: int = 4) -> str:
    """A metric in its unit, as plain text (the terminal)."""
    if value is None:
        return "none"
    return {
        "index": f"{value:.3f}",
        "pct": pct(value, 1),
        "money": money(value, currency),
        "rate": f"{value:.0f}%",
        "period": period_text(value, per_year),
        "count": f"{value:,.0f}",
    }[kind]


def fmt_difference(value: Any, kind: str, currency: str, per_year: int = 4) -> str:
    """A difference between two runs in the metric's own unit (period differences in years); plain text."""
    if value is None:
        return "n/a"
    if kind == "money":
        return ("+" if value >= 0 else "") + money(value, currency)
    if kind == "pct":
        return f"{100 * value:+.1f} pp"
    if kind == "period":
        return f"{value / per_year:+.1f} years"
    if kind == "rate":
        return f"{value:+.0f} pp"
    return f"{value:+.3f}"


def _metrics_table(metrics: dict[str, Any], currency: str, per_year: int = 4) -> str:
    rows = "".join(
        f"<tr><td>{label}</td><td class='num'>{_fmt(metrics.get(key), kind, currency, per_year)}</td></tr>"
        for key, label, kind in KEY_METRICS
    )
    return f"<table>{rows}</table>"


# --------------------------------------------------------------------------- headers


def matching_description(description: str, outcome: str | None, changed: bool) -> str:
    """The scenario's description where it can stand above this verdict, else nothing.

    A what-if (overrides or grants) is not the scenario its description was written for,
    and a description that names another outcome ("settles into an equilibrium") must not
    sit above a different badge.
    """
    if changed or not description:
        return ""
    words = {o: (o,) for o in OUTCOME_COLORS}
    text = description.lower()
    named = {o for o, ws in words.items() if any(w in text for w in ws)}
    if outcome is not None and named and outcome not in named:
        return ""
    return description


def header(scenario: Any, changes: list[str], description: str, warnings: list[str] | None = None) -> str:
    """What this report is about: its description (if it matches), the overrides and grants, warnings."""
    parts = [f"<p class='sub'>{html.escape(description)}</p>" if description else ""]
    if changes:
        items = "".join(f"<li>{html.escape(c)}</li>" for c in changes)
        parts.append(f"<div class='changes'>Changed from <b>{html.escape(scenario.name)}</b>:<ul>{items}</ul></div>")
    if getattr(scenario, "accounts", None):
        parts.append(
            f"<p class='sub'>{len(scenario.accounts)} named account(s) of your company (the first supplier); "
            "the rest of the market is drawn at random.</p>"
        )
    for warning in warnings if warnings is not None else loss_warnings(scenario):
        parts.append(f"<p class='warning'>{html.escape(warning)}</p>")
    return "".join(parts)


def posterior_note(summary: dict[str, Any]) -> str:
    """The one sentence a report over a calibration's posterior (``--posterior``) carries, escaped; else nothing."""
    sentence = (summary.get("posterior") or {}).get("sentence")
    return f"<p class='changes'>{html.escape(sentence)}</p>" if sentence else ""


def scenario_changes(scenario: Any) -> list[str]:
    """The --set overrides, account list and grants a scenario was loaded with, one line each."""

    return [override_text(k, v) for k, v in scenario.overrides.items()] + [describe(i) for i in scenario.interventions]


def override_text(path: str, value: Any) -> str:
    """``--set path=value``; an account list as ``--accounts accounts.csv``."""
    if path == "accounts_file":
        return f"--accounts {Path(str(value)).name}"
    return f"--set {path}={value}"


def page(title: str, body: str, footer: str) -> str:
    """A self-contained HTML page; ``title`` is plain text, ``body`` and ``footer`` are HTML already escaped."""
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\"><title>{html.escape(title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
        f"<body>{body}<footer>{footer}</footer></body></html>\n"
    )


def _footer(seed_text: str) -> str:

    return (
        f"procsim {__version__} &middot; {seed_text} &middot; model and assumptions: docs/model.md &middot; "
        "sources: docs/sources.md"
    )


def outlook_badge(summary: dict[str, Any]) -> str:
    """A second badge for the long run: 'in the long run: collapse (year 12)'."""
    outlook = summary.get("outlook")
    if not outlook or not summary.get("outlook_detail"):
        return ""
    at = summary.get("outlook_period")
    when_text = (
        f" ({period_text(at, summary['periods_per_year']).split('(')[-1].rstrip(')')})" if at is not None else ""
    )
    return (
        f"<span class='badge' style='background:{OUTCOME_COLORS[outlook]};opacity:.8' title='the outlook past the "
        f"horizon'>in the long run: {outlook}{when_text}</span> &nbsp; "
    )


def run_report(result: RunResult, figures: dict[str, Path]) -> str:
    """The HTML report of one run."""
    s = result.summary
    color = OUTCOME_COLORS[s["outcome"]]
    events = (
        "".join(f"<li>{when(e['period'], s['periods_per_year'])}: {html.escape(e['event'])}</li>" for e in s["events"])
        or "<li>none</li>"
    )
    changes = scenario_changes(result.scenario)
    description = matching_description(s["description"], s["outcome"], bool(changes))
    body = (
        f"<h1>{html.escape(s['scenario'])}</h1>{header(result.scenario, changes, description)}"
        f"<p><span class='badge' style='background:{color}'>{html.escape(s['outcome'])}</span> &nbsp; {outlook_badge(s)}"
        f"{s['suppliers']} suppliers, {s['customers']} customers, {s['periods']} periods "
        f"({s['periods'] / s['periods_per_year']:g} years), seed {s['seed']}</p>"
        f"<h2>What happened</h2><div class='story'>{story_html(s, result.timeseries, result.scenario)}</div>"
        f"<h2>At a glance</h2>{_img(figures['overview'], 'overview')}"
        f"<h2>Key figures</h2>{_metrics_table(s['metrics'], s['currency'], s['periods_per_year'])}"
        f"<h2>Events</h2><ul>{events}</ul>"
    )
    return page(f"procsim: {s['scenario']}", body, _footer(f"seed {s['seed']}"))


def replicate_report(result: ReplicateResult, figures: dict[str, Path]) -> str:
    """The HTML report of a replicated run: outcome counts, metric spreads and fan charts."""

    s = result.summary
    cur, per_year = s["currency"], s["periods_per_year"]
    rows = "".join(
        f"<tr><td>{label}</td>"
        + "".join(
            f"<td class='num'>{_fmt(s['metrics'][key][q], kind, cur, per_year)}</td>" for q in ("mean", "p10", "p90")
        )
        + "</tr>"
        for key, label, kind in KEY_METRICS
        if key in s["metrics"]
    )
    counts = count_words(s["outcomes"])
    ahead = ""
    if s.get("outlooks"):
        collapse = s.get("outlook_period")
        median = f"; median collapse in {when(round(collapse), per_year)}" if collapse is not None else ""
        ahead = f"<p>Past the horizon (outlook): {html.escape(count_words(s['outlooks']))}{median}.</p>"
    changes = scenario_changes(result.scenario)
    description = matching_description(s["description"], s["outcome"], bool(changes))
    from sim.runs.runner import representative  # the engine only when a page shows runs (not a sweep's page)

    typical = representative(result.runs)
    body = (
        f"<h1>{html.escape(s['scenario'])}</h1>{header(result.scenario, changes, description)}"
        f"<p><span class='badge' style='background:{OUTCOME_COLORS[s['outcome']]}'>{html.escape(s['outcome'])}</span> &nbsp; "
        f"most common outcome over {s['replicates']} replicates ({counts}), "
        f"{s['periods'] / per_year:g} years each</p>{posterior_note(s)}{ahead}"
        f"<h2>What happened in a typical run (seed {typical.seed})</h2>"
        f"<div class='story'>{story_html(typical.summary, typical.timeseries, typical.scenario)}</div>"
        f"<h2>Outcomes</h2>{_img(figures['outcomes'], 'outcome counts')}"
        f"<h2>At a glance (median and 10-90% band)</h2>{_img(figures['overview'], 'overview')}"
        f"<h2>Key figures</h2><table><tr><th></th><th>mean</th><th>10%</th><th>90%</th></tr>{rows}</table>"
    )
    return page(
        f"procsim: {s['scenario']} x{s['replicates']}",
        body,
        _footer(f"base seed {s['seed']}, {s['replicates']} derived seeds"),
    )
