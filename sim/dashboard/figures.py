"""The dashboard's six charts, drawn from one specification as SVG (the page) and as PNG (the export).

Axes stand still while a market plays: x is the whole horizon in years and y a fixed
range set when the market is set up, from its first period (money) or from the ranges
the bundled scenarios reach (shares, index); a series that leaves its range widens the
axis in a round step.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.dashboard import labels
from sim.dashboard.session import Frame
from sim.reports.cells import spreadsheet_frame
from sim.reports.fmt import money
from sim.reports.plots import plain
from sim.reports.svg import Line, line_chart, y_limits

DASHES = ("", "5 3")
# Drawn for a projector: a chart is about 235 px wide at 1024x768 (three to a row), so labels of
# 14 units in a 220-unit-wide chart are 14 px or more there; titles and legends are page text above.
TEXT, SIZE = 14, (220, 145)
CAPABILITY_COLORS = {"quality": "#1f77b4", "innovation": "#9467bd", "support": "#2ca02c", "sales_coverage": "#ff7f0e"}
FIXED = {"discount": (0.0, 0.4), "capabilities": (0.0, 1.2), "margin": (-0.2, 0.2), "balance": (0.0, 1.0)}


@dataclass(frozen=True)
class Panel:
    """One chart: id, title, lines, unit, whether y starts at zero, its fixed range, a shaded band."""

    id: str
    title: str
    lines: list[Line]
    unit: str
    y_range: tuple[float, float]
    band: tuple[float, float] | None = None


def ranges_from(first: pd.Series) -> dict[str, tuple[float, float]]:
    """Each chart's y range from a market's first period (money) and the fixed ones."""
    cash, joint = float(first["supplier_cash"]), float(first["joint_value"])
    return {**FIXED, "cash": (0.0, 2.5 * cash if cash > 0 else 1.0), "value": (0.0, 1.5 * joint if joint > 0 else 1.0)}


def series_of(frame: Frame, column: str) -> list[float]:
    """A column of a frame's series as a list (empty before the first step or if not recorded)."""
    return frame.series[column].tolist() if column in frame.series else []


def panels(
    frames: tuple[Frame, ...], ranges: dict[str, tuple[float, float]], band: tuple[float, float], currency: str
) -> list[Panel]:
    """The six panels; with two frames each series is drawn solid (first) and dashed (second)."""

    def lines(column: str, label: str, color: str, extra_dash: str = "") -> list[Line]:
        return [
            Line(
                series_of(f, column),
                label if len(frames) == 1 else f"{label} ({labels.strategy(f.label)})",
                color,
                DASHES[i] or extra_dash,
            )
            for i, f in enumerate(frames)
        ]

    discount = lines("discount_mean", "granted", "#d62728") + (
        [Line(series_of(frames[0], "demand_mean"), "demanded", "#ff9896", "2 2")] if len(frames) == 1 else []
    )
    capabilities = lines("capability_index", "index", "#111111")
    if len(frames) == 1:
        capabilities += [
            Line(series_of(frames[0], c), c.replace("_", " "), col) for c, col in CAPABILITY_COLORS.items()
        ]
    return [
        Panel("discount", "Discount", discount, "share", ranges["discount"]),
        Panel("capabilities", "Capabilities (1 = start)", capabilities, "index", ranges["capabilities"]),
        Panel("margin", "Supplier margin", lines("supplier_margin", "margin", "#8c564b"), "share", ranges["margin"]),
        Panel(
            "cash", f"Supplier cash ({currency})", lines("supplier_cash", "cash", "#17becf"), "money", ranges["cash"]
        ),
        Panel(
            "value",
            f"Value per period ({currency})",
            lines("customer_value", "customer", "#2ca02c") + lines("joint_value", "joint", "#111111"),
            "money",
            ranges["value"],
        ),
        Panel(
            "balance",
            "Balance (supplier's share)",
            lines("balance_smoothed", "balance", "#7f7f7f"),
            "share",
            ranges["balance"],
            band,
        ),
    ]


def svgs(items: list[Panel], periods: int, per_year: int) -> list[str]:
    """The panels as SVG charts for the page (title and legend are page text: see html_panels)."""
    return [
        line_chart(
            p.title,
            p.lines,
            periods=periods,
            unit=p.unit,
            band=p.band,
            y_range=p.y_range,
            per_year=per_year,
            chart_id=p.id,
            legend=False,
            title_row=False,
            text=TEXT,
            size=SIZE,
        )
        for p in items
    ]


def html_panels(items: list[Panel], periods: int, per_year: int) -> str:
    """Each panel as its title, its legend and its chart (every label escaped)."""
    out = []
    for panel, svg in zip(items, svgs(items, periods, per_year), strict=True):
        legend = "".join(
            f"<span class='legend-entry'><i class='swatch{' dashed' if line.dash else ''}' "
            f"style='border-top-color:{html.escape(line.color)}'></i>{html.escape(line.label)}</span>"
            for line in panel.lines
        ) + ("<span class='legend-entry'><i class='band'></i>fair band</span>" if panel.band else "")
        out.append(
            f"<div class='chart-box'><div class='chart-title'>{html.escape(panel.title)}</div>"
            f"<div class='chart-legend'>{legend}</div>{svg}</div>"
        )
    return "".join(out)


def png(items: list[Panel], periods: int, per_year: int, currency: str, title: str) -> bytes:
    """The panels as one PNG (2 x 3 charts, same axes as on the page)."""
    fig = Figure(figsize=(15, 8), dpi=100, layout="constrained")
    for ax, panel in zip(fig.subplots(2, 3).flat, items, strict=True):
        for line in panel.lines:
            years = [(i + 1) / per_year for i in range(len(line.values))]
            (drawn,) = ax.plot(years, line.values, color=line.color, lw=2, label=plain(line.label))
            if line.dash:
                drawn.set_dashes([float(d) for d in line.dash.split()])
        lo, hi = y_limits(
            [pd.Series(line.values, dtype=float).to_numpy() for line in panel.lines], None, None, panel.y_range
        )
        if panel.band:
            ax.axhspan(*panel.band, color="#dcfce7", zorder=0)
        ax.set_xlim(0, periods / per_year)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("years")
        ax.set_title(plain(panel.title), fontsize=11)
        if panel.unit == "share":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        elif panel.unit == "money":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: plain(money(v, currency), 30)))
        ax.grid(color="#e5e7eb")
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(plain(title), fontsize=13)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    fig.clear()
    return buffer.getvalue()


def csv(frames: tuple[Frame, ...], per_year: int) -> str:
    """Every frame's series as CSV, one row per strategy and period, with the year each period ends in."""
    parts = []
    for frame in frames:
        if frame.series.empty:
            continue
        ts = frame.series.copy()
        ts.insert(0, "strategy", frame.label)
        ts.insert(2, "year", (ts["period"] + 1) / per_year)
        parts.append(ts)
    if not parts:
        return "strategy,period,year\n"
    table = spreadsheet_frame(pd.concat(parts, ignore_index=True))
    for column in table.columns:  # numbers written out in full, never in scientific notation
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = [np.format_float_positional(v, trim="-") if np.isfinite(v) else "" for v in table[column]]
    return table.to_csv(index=False, lineterminator="\n")
