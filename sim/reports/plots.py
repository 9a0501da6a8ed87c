"""Figures of a run, of replicates (fan charts) and of a comparison (overlays).

One list of panels describes what is drawn; ``draw`` renders it for a single run, for
replicates (median and 10-90% band) or for two scenarios side by side, so the three
kinds of output always show the same charts in the same places. Figures are built as
``matplotlib.figure.Figure`` objects, not through pyplot, so the library needs no GUI
backend, never changes the caller's, and shows inline in notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

PALETTE = {
    "quality": "#1f77b4",
    "innovation": "#9467bd",
    "support": "#2ca02c",
    "sales_coverage": "#ff7f0e",
    "capability_index": "#111111",
    "discount_mean": "#d62728",
    "demand_mean": "#ff9896",
    "supplier_margin": "#8c564b",
    "supplier_cash": "#17becf",
    "customer_value": "#2ca02c",
    "supplier_value": "#1f77b4",
    "joint_value": "#111111",
    "balance": "#7f7f7f",
    "balance_smoothed": "#111111",
    "engagement_mean": "#9467bd",
    "trust_mean": "#e377c2",
    "market_success_mean": "#bcbd22",
}
COMPARE_COLORS = ("#1f77b4", "#d62728")


@dataclass(frozen=True)
class Panel:
    """One chart: a file name, a title and the series it shows."""

    name: str
    title: str
    series: tuple[tuple[str, str], ...]  # (column, label)
    unit: str  # "share", "index", "money"
    band: bool = False  # shade the fair band


PANELS: tuple[Panel, ...] = (
    Panel(
        "discount",
        "Discount granted and demanded",
        (("discount_mean", "discount granted"), ("demand_mean", "procurement demand")),
        "share",
    ),
    Panel(
        "capabilities",
        "Supplier capabilities (1 = baseline)",
        (
            ("capability_index", "capability index"),
            ("quality", "quality"),
            ("innovation", "innovation (R&D)"),
            ("support", "support"),
            ("sales_coverage", "sales coverage"),
        ),
        "index",
    ),
    Panel("margin", "Supplier operating margin", (("supplier_margin", "operating margin"),), "share"),
    Panel("cash", "Supplier cash", (("supplier_cash", "cash, all active suppliers"),), "money"),
    Panel(
        "value",
        "Value per period to each side",
        (("customer_value", "customers"), ("supplier_value", "suppliers"), ("joint_value", "joint (co-created)")),
        "money",
    ),
    Panel(
        "balance",
        "Balance of the exchange (supplier's share of joint value)",
        (("balance", "balance"), ("balance_smoothed", "smoothed")),
        "share",
        band=True,
    ),
    Panel(
        "relationship",
        "Relationship health",
        (
            ("engagement_mean", "engagement"),
            ("trust_mean", "trust"),
            ("market_success_mean", "customers' market success"),
        ),
        "index",
    ),
)


def plain(text: str, limit: int = 80) -> str:
    """User text for a figure, shown as written: ``$`` escaped so matplotlib never parses it as maths, and
    cut at ``limit`` characters so a long name cannot squeeze the charts to nothing."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.replace("$", r"\$")


def _money(currency: str) -> FuncFormatter:
    def fmt(x: float, _pos: int) -> str:
        for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(x) >= div:
                return f"{x / div:,.1f}{suffix}"
        return f"{x:,.0f}"

    formatter = FuncFormatter(fmt)
    formatter.currency = currency  # type: ignore[attr-defined]
    return formatter


def _percent(ax: Axes) -> FuncFormatter:
    """Percent labels with as few decimals as the tick step needs (5%, 2.5%, 0.25%), the same for every tick."""

    def fmt(x: float, _pos: int) -> str:
        ticks = np.sort(ax.yaxis.get_majorticklocs())
        step = float(np.min(np.diff(ticks))) * 100 if len(ticks) > 1 else 1.0
        decimals = 0
        while decimals < 4 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
            decimals += 1
        return f"{100 * x:.{decimals}f}%"

    return FuncFormatter(fmt)


def _style(
    ax: Axes, panel: Panel, currency: str, band: tuple[float, float], per_year: int | None, legend_below: bool = True
) -> None:
    ax.set_title(panel.title, fontsize=11, loc="left")
    ax.set_xlabel("years" if per_year else "period", fontsize=9)
    ax.tick_params(labelsize=9)
    ax.grid(alpha=0.3)
    if per_year:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    if panel.unit == "share":
        # Evenly spaced round steps; decimals follow the step so no two ticks read the same.
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_formatter(_percent(ax))
    elif panel.unit == "money":
        ax.yaxis.set_major_formatter(_money(currency))
        ax.set_ylabel(plain(currency, 20), fontsize=9)
    if panel.band:
        ax.axhspan(band[0], band[1], color="#2ca02c", alpha=0.08, label="fair band")
        ax.set_ylim(0, 1)
    elif panel.unit == "index":
        # From zero, so a drift of 1% looks like 1% and not like a cliff (an index never goes below zero).
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.05))
    if not legend_below:  # small multiples: inside, where it costs the chart no width
        ax.legend(fontsize=8, loc="best", frameon=True, framealpha=0.8, edgecolor="none")
        return
    # Below the chart in rows, so it never hides a line and stays readable on a slide; as many
    # columns as the chart's width holds.
    labels = ax.get_legend_handles_labels()[1]
    width = ax.get_position().width * ax.figure.get_figwidth()
    longest = max((len(label) for label in labels), default=10)
    ncol = max(1, min(3, int(width / (0.075 * longest + 0.5))))
    ax.legend(
        fontsize=9,
        loc="upper left",
        bbox_to_anchor=(0, -0.16),
        ncol=ncol,
        frameon=False,
        borderaxespad=0,
        handlelength=1.8,
    )


def x_values(periods: pd.Series | np.ndarray, per_year: int | None) -> np.ndarray:
    """Where a period's values are drawn: at its end in years (period 3 of quarters = year 1), or its number."""
    values = np.asarray(periods, dtype=float)
    return (values + 1) / per_year if per_year else values


def _markers(ax: Axes, marks: Sequence[tuple[int, str]], per_year: int | None) -> None:
    for i, (period, label) in enumerate(marks):
        x = float(x_values(np.array([period]), per_year)[0])
        ax.axvline(x, color="#555555", lw=0.8, ls=":")
        ax.annotate(
            label,
            (x, 0.99 - 0.3 * i),
            xycoords=("data", "axes fraction"),
            fontsize=9,
            rotation=90,
            va="top",
            ha="right",
            color="#555555",
        )


def draw(
    panel: Panel,
    ax: Axes,
    *,
    single: pd.DataFrame | None = None,
    runs: Sequence[pd.DataFrame] = (),
    pair: Sequence[tuple[str, pd.DataFrame]] = (),
    currency: str = "",
    band: tuple[float, float] = (0.4, 0.6),
    marks: Sequence[tuple[int, str]] = (),
    per_year: int | None = None,
    legend_below: bool = True,
) -> None:
    """Draw one panel for a single run, for replicates (fan) or for a pair of scenarios.

    With ``per_year`` the x axis is in years (each period drawn at its end), else in periods.
    """
    for i, (column, label) in enumerate(panel.series):
        width = 2.2 if i == 0 and panel.name == "capabilities" else 1.5
        color = PALETTE.get(column)
        if single is not None:
            ax.plot(x_values(single["period"], per_year), single[column], label=label, color=color, lw=width)
        elif runs:
            values = np.vstack([r[column].to_numpy() for r in runs])
            x = x_values(runs[0]["period"], per_year)
            lo, mid, hi = np.percentile(values, [10, 50, 90], axis=0)
            ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)
            ax.plot(x, mid, color=color, lw=width, label=f"{label} (median, 10-90%)")
        else:
            if len(panel.series) > 1 and i > 0 and panel.name not in ("discount", "value"):
                continue  # in comparisons keep the first series of busy panels
            for (name, ts), base in zip(pair, COMPARE_COLORS, strict=False):
                style = "-" if i == 0 else "--"
                x = x_values(ts["period"], per_year)
                ax.plot(x, ts[column], color=base, ls=style, lw=1.8, label=f"{plain(name, 30)}: {label}")
    _style(ax, panel, currency, band, per_year, legend_below)
    _markers(ax, marks, per_year)


SLIDE = (12.0, 6.75)  # inches, 16:9


def panel_figure(panel: Panel, **kwargs) -> Figure:
    """One chart at 16:9, readable on a slide (1800 x 1012 pixels as PNG)."""
    fig = Figure(figsize=SLIDE, dpi=150, layout="constrained")
    ax = fig.subplots()
    draw(panel, ax, **kwargs)
    return fig


def overview_figure(title: str, **kwargs) -> Figure:
    """All panels on one 16:9 page (a slide-ready overview)."""
    fig = Figure(figsize=(20, 11.25), dpi=100, layout="constrained")
    axes = fig.subplots(2, 4)
    for ax, panel in zip(axes.flat, PANELS, strict=False):
        draw(panel, ax, legend_below=False, **kwargs)
    axes.flat[-1].axis("off")
    fig.suptitle(plain(title), fontsize=15, x=0.01, ha="left")
    return fig


def outcome_counts_figure(counts: dict[str, int]) -> Figure:
    colors = {
        "collapse": "#d62728",
        "spiral": "#ff7f0e",
        "equilibrium": "#1f77b4",
        "growth": "#2ca02c",
        "drifting": "#7f7f7f",
    }
    fig = Figure(figsize=(6.4, 3.6), dpi=120, layout="constrained")  # 16:9, small beside the text
    ax = fig.subplots()
    names = list(counts)
    ax.bar(names, [counts[n] for n in names], color=[colors[n] for n in names])
    for x, n in enumerate(names):
        ax.annotate(str(counts[n]), (x, counts[n]), ha="center", va="bottom", fontsize=9)
    ax.set_title("Outcomes over replicates", fontsize=10, loc="left")
    ax.set_ylabel("runs")
    ax.grid(axis="y", alpha=0.3)
    return fig


def close(fig: Figure) -> None:
    """Release a figure's drawing buffers (figures here are never registered with pyplot)."""
    fig.clear()
