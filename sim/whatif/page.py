"""The what-if in HTML: the answer first, the figures under it, the charts, who follows, the account table.

The fragments here make both report.html and the studio's answer, so the two show the
same figures in the same words (:func:`sim.whatif.words.answer_lines`). Every text from
a user (account names, segments, the currency) is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.reports.fmt import count_words, money, pct
from sim.reports.pages import (
    KEY_METRICS,
    OUTCOME_COLORS,
    _fmt,
    _footer,
    fmt_difference,
    header,
    override_text,
    page,
    posterior_note,
    story_html,
)
from sim.whatif.words import answer_lines, curve_cells, level_text, signed

if TYPE_CHECKING:
    from sim.whatif.answer import WhatIf

SIDE_NAMES = {"base": "base", "whatif": "what-if"}
CSS = """
table.lines td:first-child{white-space:pre}table.lines tr.total td{font-weight:700}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts img{max-width:100%;height:auto;border:1px solid #e5e7eb}
.curve td,.curve th{text-align:right}.curve td:first-child{text-align:left}tr.found td{background:#dcfce7}
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def image(svg: str, alt: str) -> str:
    """An SVG chart as an image (the report allows images only as data)."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/svg+xml;base64,{data}">'


def lines_html(answer: Mapping[str, Any], currency: str) -> str:
    """The figures under the answer: the total, its parts, per year, now, the account's value (mean and 80% range)."""
    rows = "".join(
        f"<tr class='{'total' if ln.key == 'total' else ''}' data-key='{esc(ln.key)}'><td>{esc(ln.label)}</td>"
        f"<td class='num'>{esc(ln.value_text(currency))}</td><td class='num'>{esc(ln.range_text(currency))}</td></tr>"
        for ln in answer_lines(answer)
    )
    return (
        "<table class='lines'><tr><th>your profit, what-if minus base</th><th>mean</th><th>80% range</th></tr>"
        f"{rows}</table>"
    )


def years_html(answer: Mapping[str, Any], currency: str) -> str:
    """Your profit change in each year of the horizon (mean and 80% range)."""
    rows = "".join(
        f"<tr><td>year {y['year']}</td><td class='num'>{esc(signed(y['mean'], currency))}</td>"
        f"<td class='num'>{esc(signed(y['p10'], currency))} to {esc(signed(y['p90'], currency))}</td></tr>"
        for y in answer["years"]
    )
    return f"<table class='years'><tr><th>year</th><th>change in your profit</th><th>80% range</th></tr>{rows}</table>"


def followers_html(answer: Mapping[str, Any]) -> str:
    """The named peers that follow the grant (demand parity): in how many runs, and after how long."""
    rows = "".join(
        f"<tr><td>{esc(f['account'])}</td><td class='num'>{f['runs']} of {f['of']}</td>"
        f"<td class='num'>{'' if f['median_years'] is None else f'{f["median_years"]:.1f} years'}</td></tr>"
        for f in answer.get("named_followers") or []
    )
    if not rows:
        return ""
    return (
        "<table class='followers'><tr><th>named peer</th><th>runs it follows</th>"
        f"<th>after (median)</th></tr>{rows}</table>"
    )


def curve_html(curve: Mapping[str, Any], currency: str) -> str:
    """The cost curve's table: one row per level, the found level marked."""
    found = (curve.get("found") or {}).get("level")
    head = (
        "<tr><th>grant</th><th>your profit change</th><th>80% range</th><th>per year</th><th>now (NPV)</th>"
        "<th>account stays</th><th>with its named peers</th></tr>"
    )
    rows = []
    for point in curve["points"]:
        c = curve_cells(point, currency)
        cls = " class='found'" if found is not None and point["level"] == found else ""
        rows.append(
            f"<tr{cls}><td>{esc(c['level'])}</td><td>{esc(c['profit'])}</td><td>{esc(c['range'])}</td>"
            f"<td>{esc(c['per_year'])}</td><td>{esc(c['npv'])}</td><td>{esc(c['kept'])}</td>"
            f"<td>{esc(c['kept_with_peers'])}</td></tr>"
        )
    return f"<table class='curve'>{head}{''.join(rows)}</table>"


COLUMNS = (
    ("discount", "your discount at the end", "pct"),
    ("yours", "your profit from it", "money"),
)


def account_rows_html(table: pd.DataFrame, currency: str, runs: int) -> str:
    """The per-account table: both sides, the change in your profit from each with its range, how it ended and why."""
    cur = esc(currency)
    head = (
        "<tr><th rowspan='2'>account</th><th rowspan='2'>segment</th>"
        + "".join(f"<th colspan='2'>{label}{'' if kind == 'pct' else f' ({cur})'}</th>" for _, label, kind in COLUMNS)
        + f"<th rowspan='2'>change in your profit from it ({cur})</th><th rowspan='2'>80% range</th>"
        "<th rowspan='2'>how it ended, and why it moved</th><th rowspan='2'>parity reached</th></tr><tr>"
        + "<th>base</th><th>what-if</th>" * len(COLUMNS)
        + "</tr>"
    )
    body = []
    for r in table.to_dict("records"):
        cls = "total" if r["account"] == "market total" else ("reached" if r["highlight"] else "")
        cells = [f"<td>{esc(r['account'])}{' (granted)' if r['granted'] else ''}</td><td>{esc(r['segment'])}</td>"]
        for key, _, kind in COLUMNS:
            for side in ("base", "whatif"):
                value = r[f"{key}_{side}"]
                if pd.isna(value):
                    shown = "n/a"
                else:
                    shown = pct(value, 1) if kind == "pct" else money(value, currency).replace(f"{currency} ", "")
                cells.append(f"<td class='num'>{esc(shown)}</td>")
        cells.append(f"<td class='num'>{esc(signed(r['yours_change'], currency).replace(f'{currency} ', ''))}</td>")
        low, high = r.get("yours_change_p10"), r.get("yours_change_p90")
        spread = "" if low is None or pd.isna(low) else f"{signed(low, currency)} to {signed(high, currency)}"
        cells.append(f"<td class='num'>{esc(spread.replace(f'{currency} ', ''))}</td>")
        cells.append(f"<td>base: {esc(r['status_base'])}<br>what-if: {esc(r['status_whatif'])}</td>")
        reached = r["reached"]
        if r["customers"] == 1:
            shown = f"in {reached * runs:.0f} of {runs} runs" if reached else ""
        else:
            shown = f"{reached:.1f} of {r['customers']} (mean)" if reached else ""
        cells.append(f"<td>{shown}</td>")
        body.append(f"<tr class='{cls}'>{''.join(cells)}</tr>")
    return f"<div class='wide'><table class='accounts'>{head}{''.join(body)}</table></div>"


def answer_html(summary: Mapping[str, Any]) -> str:
    """The answer block: the curve's sentence (if any), the answer, the figures under it."""
    answer, currency = summary["answer"], summary["currency"]
    curve = summary.get("curve")
    parts = []
    if curve:
        parts.append(f"<p class='answer' id='curve-answer'>{esc(curve['text'])}.</p>")
        parts.append(f"<p class='sub'>In detail: {esc(_detail_words(answer))}.</p>")
    parts.append(f"<p class='answer' id='answer'>{esc(answer['text'])}.</p>{posterior_note(summary)}")
    parts.append(lines_html(answer, currency))
    parts.append(
        "<p class='sub'>Each part is your profit from those customers (their contribution less their share of "
        "your investment and overhead), what-if minus base; the means add up to the total, the 80% ranges do not.</p>"
    )
    return "".join(parts)


def _detail_words(answer: Mapping[str, Any]) -> str:
    grants = answer.get("grants") or []
    if not grants:
        return "the what-if"
    return "; ".join(f"granting {g['to']} {level_text(g['level'])}" for g in grants)


def whatif_report(result: WhatIf, charts: Mapping[str, str]) -> str:
    """The what-if's HTML report: the answer, its parts, the charts, who follows, the account table, both runs."""
    s = result.summary
    cur, per_year = s["currency"], s["periods_per_year"]
    runs = len(result.seeds)
    answer = s["answer"]
    badges = " &nbsp; ".join(
        f"{SIDE_NAMES[side]}: <span class='badge' style='background:{OUTCOME_COLORS[s['outcome'][side]]}'>"
        f"{esc(s['outcome'][side])}</span> ({count_words(s['outcomes'][side])})"
        for side in ("base", "whatif")
    )
    from sim.runs.runner import representative

    stories = ""
    for side in ("base", "whatif"):
        typical = representative(result.runs[side])
        lines = story_html(typical.summary, typical.timeseries, typical.scenario)
        stories += f"<h3>{SIDE_NAMES[side]} (a typical run, seed {typical.seed})</h3><div class='story'>{lines}</div>"
    rows = ""
    for key, label, kind in KEY_METRICS:
        m = s["metrics"][key]
        rows += (
            f"<tr><td>{label}</td><td class='num'>{_fmt(m['base'], kind, cur, per_year)}</td>"
            f"<td class='num'>{_fmt(m['whatif'], kind, cur, per_year)}</td>"
            f"<td class='num'>{esc(fmt_difference(m['difference'], kind, cur, per_year))}</td></tr>"
        )
    both = [f"both sides: {override_text(k, v)}" for k, v in s["base_overrides"].items()]
    follow = ""
    if answer.get("target") is not None:
        follow = (
            f"<h2>Which peers follow, and when</h2>{image(charts['followers'], 'which peers follow, and when')}"
            f"{followers_html(answer)}"
        )
    curve = ""
    if s.get("curve"):
        curve = f"<h2>The cost curve</h2>{image(charts['curve'], 'the cost curve')}{curve_html(s['curve'], cur)}"
    body = (
        f"<style>{CSS}</style><h1>What-if: {esc(result.label)}</h1>"
        f"{header(result.variant, s['changes'] + both, s['description'])}"
        f"{answer_html(s)}"
        f"<p>{badges}; {runs} seed(s), {s['periods'] / per_year:g} years; you are the first supplier.</p>"
        f"<div class='charts'>{image(charts['cost'], 'your profit over time')}"
        f"{image(charts['parts'], 'where it comes from')}</div>"
        f"{curve}"
        f"<h2>Year by year</h2>{years_html(answer, cur)}"
        f"{follow}"
        f"<h2>Accounts, by impact</h2>"
        "<p class='sub'>Totals over the horizon, means over the seeds; highlighted: accounts whose discount the "
        "parity spread raised (in at least half the runs).</p>"
        f"{account_rows_html(result.accounts, cur, runs)}"
        f"<h2>Both runs (medians)</h2>{image(charts['overview'], 'overview: base and what-if')}"
        f"<h2>What happened</h2>{stories}"
        f"<h2>Key figures (means)</h2><table><tr><th></th><th>base</th><th>what-if</th><th>difference</th></tr>"
        f"{rows}</table>"
    )
    return page(f"procsim what-if: {result.label}", body, _footer(f"{runs} seeds from {result.seeds[0]}"))
