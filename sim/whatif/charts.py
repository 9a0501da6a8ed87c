"""The what-if's charts as SVG text: the cost over the years, its parts, a cost curve, who follows, both runs.

Every chart has its x axis in years (or, for a cost curve, in discount levels) and its y
axis from zero, so a small change looks small. They are a few kilobytes of text built
without a plotting library, cheap enough to draw for every answer in the studio; the
report embeds the same files that ``plots/`` holds for slides. Every text is escaped.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.reports.svg import Line, line_chart

W, H = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 78, 18, 62, 44
BLUE, RED, GREY, BAND = "#1d4ed8", "#b91c1c", "#6b7280", "#bfdbfe"
FONT = "font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:12px"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (about ``count`` of them), zero among them when in range."""
    if hi - lo <= 0:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / count
    scale = 10 ** math.floor(math.log10(raw))
    step = next(s * scale for s in (1, 2, 2.5, 5, 10) if s * scale >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    value = start
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi:
        ticks.append(ticks[-1] + step)
    return ticks


def money_tick(value: float, currency: str) -> str:
    """``1.5M``, ``-250k``, ``0`` (the currency is on the axis title)."""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:,.{0 if (value / div).is_integer() else 1}f}{suffix}"
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Band:
    """A series with an optional 80% band: x values, mean, low and high (None: no band)."""

    label: str
    color: str
    x: Sequence[float]
    mean: Sequence[float]
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None


def _frame(title: str, chart_id: str, subtitle: str = "") -> list[str]:
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="{html.escape(title)}" data-chart="{html.escape(chart_id)}" style="{FONT}">'
        ),
        f'<rect width="{W}" height="{H}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600">{html.escape(title)}</text>',
        f'<text x="{LEFT}" y="33" fill="{GREY}">{html.escape(subtitle)}</text>' if subtitle else "",
    ]


def xy_chart(
    title: str,
    bands: Sequence[Band],
    *,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[float],
    x_text: Any,
    y_text: Any,
    chart_id: str,
    subtitle: str = "",
    marks: Sequence[tuple[float, str]] = (),
) -> str:
    """Lines with bands over a numeric x axis; the y axis always includes zero."""
    values = [v for b in bands for v in (*b.mean, *(b.low or ()), *(b.high or ())) if math.isfinite(v)]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    yt = nice_ticks(lo, hi)
    lo, hi = min(yt[0], lo), max(yt[-1], hi)
    x0, x1 = min(x_ticks), max(x_ticks)
    w, h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + w * (x - x0) / ((x1 - x0) or 1.0)

    def py(y: float) -> float:
        return TOP + h * (1 - (y - lo) / ((hi - lo) or 1.0))

    parts = _frame(title, chart_id, subtitle)
    for t in yt:
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + w}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
            f'stroke="{"#9ca3af" if t == 0 else "#e5e7eb"}"/>'
            f'<text x="{LEFT - 6}" y="{py(t) + 4:.1f}" text-anchor="end" fill="{GREY}">{html.escape(y_text(t))}</text>'
        )
    for t in x_ticks:
        parts.append(
            f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{TOP + h}" y2="{TOP + h + 4}" stroke="#9ca3af"/>'
            f'<text x="{px(t):.1f}" y="{TOP + h + 17}" text-anchor="middle" fill="{GREY}">{html.escape(x_text(t))}</text>'
        )
    parts.append(
        f'<text x="{LEFT + w / 2:.0f}" y="{H - 6}" text-anchor="middle" fill="#374151">{html.escape(x_label)}</text>'
        f'<text transform="translate(14 {TOP + h / 2:.0f}) rotate(-90)" text-anchor="middle" fill="#374151">'
        f"{html.escape(y_label)}</text>"
    )
    for x, label in marks:
        parts.append(
            f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{TOP}" y2="{TOP + h}" stroke="{GREY}" stroke-dasharray="4 3"/>'
            f'<text x="{px(x) + 4:.1f}" y="{TOP + 12}" fill="{GREY}">{html.escape(label)}</text>'
        )
    legend_x = LEFT
    for band in bands:
        xs = [px(x) for x in band.x]
        if band.low is not None and band.high is not None and len(xs) > 1:
            upper = " ".join(f"{a:.1f},{py(b):.1f}" for a, b in zip(xs, band.high, strict=True))
            lower = " ".join(f"{a:.1f},{py(b):.1f}" for a, b in zip(reversed(xs), reversed(band.low), strict=True))
            parts.append(f'<polygon points="{upper} {lower}" fill="{band.color}" opacity="0.18"/>')
        points = " ".join(f"{a:.1f},{py(b):.1f}" for a, b in zip(xs, band.mean, strict=True))
        parts.append(f'<polyline fill="none" stroke="{band.color}" stroke-width="2.2" points="{points}"/>')
        if len(xs) <= 25:
            parts.extend(
                f'<circle cx="{a:.1f}" cy="{py(b):.1f}" r="3" fill="{band.color}"/>'
                for a, b in zip(xs, band.mean, strict=True)
            )
        text = band.label + (" (mean, 80% range)" if band.low is not None else "")
        parts.append(
            f'<rect x="{legend_x:.0f}" y="{TOP - 16}" width="12" height="8" fill="{band.color}"/>'
            f'<text x="{legend_x + 16:.0f}" y="{TOP - 8}" fill="#374151">{html.escape(text)}</text>'
        )
        legend_x += 7 * len(text) + 34
    parts.append("</svg>")
    return "".join(parts)


def year_ticks(years: float) -> list[float]:
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 10**9) if years / s <= 10)
    return [float(y) for y in range(0, math.ceil(years) + 1, step)]


def cost_over_time(answer: Mapping[str, Any], currency: str) -> str:
    """Your cumulative profit change by the end of each year (mean and 80% range), from zero at the start."""
    points = answer["cumulative"]
    x = [0.0] + [p["year"] for p in points]
    band = Band(
        "your profit, what-if minus base",
        RED if answer["profit_change"]["mean"] < 0 else BLUE,
        x,
        [0.0] + [p["mean"] for p in points],
        [0.0] + [p["p10"] for p in points],
        [0.0] + [p["p90"] for p in points],
    )
    return xy_chart(
        "What it does to your profit over time",
        [band],
        x_label="years from the start",
        y_label=f"{currency}, running total",
        x_ticks=year_ticks(x[-1]),
        x_text=lambda t: f"{t:g}",
        y_text=lambda t: money_tick(t, currency),
        chart_id="cost",
        subtitle=f"running total over {answer['replicates']} runs; below zero it costs you",
    )


def parts_chart(lines: Sequence[Any], currency: str) -> str:
    """The total and its parts as horizontal bars from zero, each with its 80% range as a whisker."""
    rows = [ln for ln in lines if ln.key in ("total", "granted", "parity", "moved", "rest")]
    values = [v for ln in rows for v in (ln.mean, ln.p10, ln.p90) if v is not None]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]), 6)
    lo, hi = ticks[0], ticks[-1]
    label_w = 300
    left, width = label_w + 12, W - label_w - 12 - RIGHT
    row_h = 34
    height = TOP + row_h * len(rows) + 36

    def px(v: float) -> float:
        return left + width * (v - lo) / ((hi - lo) or 1.0)

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
            f'role="img" aria-label="Where it comes from" data-chart="parts" style="{FONT}">'
        ),
        f'<rect width="{W}" height="{height}" fill="#ffffff"/>',
        f'<text x="12" y="18" font-size="14" font-weight="600">Where it comes from (change in your profit, {html.escape(currency)})</text>',
    ]
    for t in ticks:
        parts.append(
            f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{TOP - 8}" y2="{height - 30}" stroke="{"#9ca3af" if t == 0 else "#e5e7eb"}"/>'
            f'<text x="{px(t):.1f}" y="{height - 14}" text-anchor="middle" fill="{GREY}">{html.escape(money_tick(t, currency))}</text>'
        )
    for i, ln in enumerate(rows):
        y = TOP + i * row_h
        color = RED if ln.mean < 0 else BLUE
        a, b = sorted((px(0.0), px(ln.mean)))
        weight = "600" if ln.key == "total" else "400"
        label = re.sub(r" \([\d.]+ accounts, mean\)$", "", ln.label.strip().removeprefix("of which: "))
        label = label if len(label) <= 46 else label[:45] + "…"
        parts.append(
            f'<text x="{label_w}" y="{y + 16}" text-anchor="end" font-weight="{weight}" fill="#111827">{html.escape(label)}</text>'
            f'<rect x="{a:.1f}" y="{y + 4}" width="{max(b - a, 1):.1f}" height="18" fill="{color}" opacity="{0.9 if ln.key == "total" else 0.6}"/>'
        )
        if ln.p10 is not None and ln.p90 is not None:
            low, high = px(ln.p10), px(ln.p90)
            parts.append(
                f'<line x1="{low:.1f}" x2="{high:.1f}" y1="{y + 13}" y2="{y + 13}" stroke="#111827"/>'
                f'<line x1="{low:.1f}" x2="{low:.1f}" y1="{y + 8}" y2="{y + 18}" stroke="#111827"/>'
                f'<line x1="{high:.1f}" x2="{high:.1f}" y1="{y + 8}" y2="{y + 18}" stroke="#111827"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def curve_chart(curve: Mapping[str, Any], currency: str) -> str:
    """A cost curve: your profit change at each level (mean, 80% range), the current discount and a found level marked."""
    points = curve["points"]
    x = [100 * p["level"] for p in points]
    band = Band(
        "your profit change",
        RED,
        x,
        [p["profit_change"]["mean"] for p in points],
        [p["profit_change"]["p10"] for p in points],
        [p["profit_change"]["p90"] for p in points],
    )
    marks = []
    if curve.get("current") is not None:
        marks.append((100 * curve["current"], "now"))
    if curve.get("found") is not None:
        marks.append((100 * curve["found"]["level"], "largest that keeps"))
    return xy_chart(
        f"The cost curve: granting {curve['target']} each level",
        [band],
        x_label="discount granted",
        y_label=f"{currency} over the horizon",
        x_ticks=[round(v, 6) for v in nice_ticks(min(x), max(x), 10) if min(x) - 1e-9 <= v <= max(x) + 1e-9] or x,
        x_text=lambda t: f"{t:g}%",
        y_text=lambda t: money_tick(t, currency),
        chart_id="curve",
        subtitle="change in your profit against the base (below zero it costs you)",
        marks=marks,
    )


def followers_chart(answer: Mapping[str, Any]) -> str:
    """How many of the granted account's peers demand parity by the end of each year after the grant (mean)."""
    timeline = answer.get("follow_by_year") or []
    peers = answer.get("peers") or 0.0
    x = [0.0] + [float(t["year"]) for t in timeline]
    band = Band("peers demanding parity", BLUE, x, [0.0] + [t["peers"] for t in timeline])
    top = max(peers, 1.0)
    return xy_chart(
        "Which peers follow, and when",
        [band, Band("its peers", GREY, [x[0], x[-1]], [top, top])] if peers else [band],
        x_label="years after the grant first prices",
        y_label="peers (mean over runs)",
        x_ticks=year_ticks(max(x[-1], 1.0)),
        x_text=lambda t: f"{t:g}",
        y_text=lambda t: f"{t:g}",
        chart_id="followers",
        subtitle="cumulative: a peer follows when its procurement first asks for more than in the base",
    )


SERIES = (
    ("discount_mean", "Average discount", "share"),
    ("capability_index", "Capability index (1 = baseline)", "index"),
    ("supplier_margin", "Supplier operating margin", "share"),
    ("joint_value", "Joint value per period", "money"),
    ("customer_value", "Value to the customers per period", "money"),
    ("supplier_value", "Value to the suppliers per period", "money"),
    ("trust_mean", "Customers' trust", "index"),
    ("engagement_mean", "Customers' engagement", "index"),
)


def series_charts(medians: Mapping[str, pd.DataFrame], per_year: int) -> dict[str, str]:
    """Both runs' median series, chart by chart (x in years, y from zero): base solid, what-if dashed."""
    out = {}
    for column, title, unit in SERIES:
        lines = [
            Line(np.asarray(medians["base"][column], dtype=float), "base", "#1f77b4"),
            Line(np.asarray(medians["whatif"][column], dtype=float), "what-if", "#d62728", "5 3"),
        ]
        periods = len(medians["base"])
        out[column] = line_chart(
            title, lines, periods=periods, unit=unit, floor=0.0, per_year=per_year, chart_id=column
        )
    return out


def overview(charts: Mapping[str, str], columns: int = 4) -> str:
    """The series charts side by side in one SVG (a slide's overview of both runs)."""
    cw, ch = 340, 184
    names = list(charts)
    rows = -(-len(names) // columns)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {cw * columns} {ch * rows}" '
            f'width="{cw * columns}" height="{ch * rows}" role="img" aria-label="overview: base and what-if">'
        ),
        f'<rect width="{cw * columns}" height="{ch * rows}" fill="#ffffff"/>',
    ]
    for k, name in enumerate(names):
        x, y = (k % columns) * cw, (k // columns) * ch
        parts.append(charts[name].replace('width="100%"', f'x="{x}" y="{y}" width="{cw}" height="{ch}"', 1))
    parts.append("</svg>")
    return "".join(parts)


def whatif_charts(
    summary: Mapping[str, Any], lines: Sequence[Any], medians: Mapping[str, pd.DataFrame]
) -> dict[str, str]:
    """Every chart of a what-if by file name: the answer's first, then both runs' series and their overview."""
    answer, currency = summary["answer"], summary["currency"]
    out = {"cost": cost_over_time(answer, currency), "parts": parts_chart(lines, currency)}
    if answer.get("target") is not None:
        out["followers"] = followers_chart(answer)
    if summary.get("curve"):
        out["curve"] = curve_chart(summary["curve"], currency)
    series = series_charts(medians, summary["periods_per_year"])
    out["overview"] = overview(series)
    out.update(series)
    return out
