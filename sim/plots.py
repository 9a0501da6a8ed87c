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
from matplotlib.ticker import FuncFormatter, PercentFormatter

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


def plain(text: str) -> str:
    """User text for a figure, shown as written: ``$`` escaped so matplotlib never parses it as maths."""
    return str(text).replace("$", r"\$")


def _money(currency: str) -> FuncFormatter:
    def fmt(x: float, _pos: int) -> str:
        for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(x) >= div:
                return f"{x / div:,.1f}{suffix}"
        return f"{x:,.0f}"

    formatter = FuncFormatter(fmt)
    formatter.currency = currency  # type: ignore[attr-defined]
    return formatter


def _style(ax: Axes, panel: Panel, currency: str, band: tuple[float, float]) -> None:
    ax.set_title(panel.title, fontsize=10, loc="left")
    ax.set_xlabel("period")
    ax.grid(alpha=0.3)
    if panel.unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif panel.unit == "money":
        ax.yaxis.set_major_formatter(_money(currency))
        ax.set_ylabel(plain(currency))
    if panel.band:
        ax.axhspan(band[0], band[1], color="#2ca02c", alpha=0.08, label="fair band")
        ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="best", frameon=False)


def _markers(ax: Axes, marks: Sequence[tuple[int, str]]) -> None:
    for i, (period, label) in enumerate(marks):
        ax.axvline(period, color="#555555", lw=0.8, ls=":")
        ax.annotate(
            label,
            (period, 0.99 - 0.3 * i),
            xycoords=("data", "axes fraction"),
            fontsize=7,
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
) -> None:
    """Draw one panel for a single run, for replicates (fan) or for a pair of scenarios."""
    for i, (column, label) in enumerate(panel.series):
        width = 2.2 if i == 0 and panel.name == "capabilities" else 1.5
        color = PALETTE.get(column)
        if single is not None:
            ax.plot(single["period"], single[column], label=label, color=color, lw=width)
        elif runs:
            values = np.vstack([r[column].to_numpy() for r in runs])
            periods = runs[0]["period"]
            lo, mid, hi = np.percentile(values, [10, 50, 90], axis=0)
            ax.fill_between(periods, lo, hi, color=color, alpha=0.18, lw=0)
            ax.plot(periods, mid, color=color, lw=width, label=f"{label} (median, 10-90%)")
        else:
            if len(panel.series) > 1 and i > 0 and panel.name not in ("discount", "value"):
                continue  # in comparisons keep the first series of busy panels
            for (name, ts), base in zip(pair, COMPARE_COLORS, strict=False):
                style = "-" if i == 0 else "--"
                ax.plot(ts["period"], ts[column], color=base, ls=style, lw=1.6, label=plain(f"{name}: {label}"))
    _style(ax, panel, currency, band)
    _markers(ax, marks)


def panel_figure(panel: Panel, **kwargs) -> Figure:
    fig = Figure(figsize=(7.5, 4.0), dpi=110)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.97, top=0.91, bottom=0.13)
    draw(panel, ax, **kwargs)
    return fig


def overview_figure(title: str, **kwargs) -> Figure:
    """All panels on one page (a slide-ready overview)."""
    fig = Figure(figsize=(18, 8.2), dpi=100)
    axes = fig.subplots(2, 4)
    fig.subplots_adjust(left=0.05, right=0.99, top=0.9, bottom=0.07, wspace=0.28, hspace=0.38)
    for ax, panel in zip(axes.flat, PANELS, strict=False):
        draw(panel, ax, **kwargs)
    axes.flat[-1].axis("off")
    fig.suptitle(plain(title), fontsize=13, x=0.01, ha="left")
    return fig


def outcome_counts_figure(counts: dict[str, int]) -> Figure:
    colors = {"collapse": "#d62728", "spiral": "#ff7f0e", "equilibrium": "#1f77b4", "growth": "#2ca02c"}
    fig = Figure(figsize=(6, 3.2), dpi=110)
    ax = fig.subplots()
    names = list(counts)
    ax.bar(names, [counts[n] for n in names], color=[colors[n] for n in names])
    for x, n in enumerate(names):
        ax.annotate(str(counts[n]), (x, counts[n]), ha="center", va="bottom", fontsize=9)
    ax.set_title("Outcomes over replicates", fontsize=10, loc="left")
    ax.set_ylabel("runs")
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.88, bottom=0.12)
    return fig


def close(fig: Figure) -> None:
    """Release a figure's drawing buffers (figures here are never registered with pyplot)."""
    fig.clear()
