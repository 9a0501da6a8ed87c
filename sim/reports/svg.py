"""Small line charts as inline SVG: cheap enough to redraw at every period while playing.

A matplotlib figure costs tens of milliseconds to render and ship; these are a few
kilobytes of text built with numpy, so a 40-period demo plays with every chart updating.
The x axis is always the whole horizon, labelled in years; the y axis includes zero when
asked (``floor``) and can be given a fixed range (``y_range``) that only grows, in round
steps, if the data leave it, so the axes stand still while a market plays.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT = 340, 184
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 44, 20  # TOP: the title and two rows of legend, above the data
LEGEND_ROW = 11


@dataclass(frozen=True)
class Line:
    """One series: its values over periods, a label, a colour and a dash pattern ('' for solid)."""

    values: Sequence[float]
    label: str
    color: str
    dash: str = ""


def fmt(value: float, unit: str) -> str:
    """A tick label: a share as %, money with a k/m/bn suffix, anything else with two decimals."""
    if unit == "share":
        return f"{value:.0%}" if abs(value) >= 0.1 or value == 0 else f"{value:.1%}"
    if unit == "money":
        for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:.1f}{suffix}"
        return f"{value:.0f}"
    return f"{value:.2f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above ``value`` (> 0)."""
    if value <= 0:
        return 0.0
    scale = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * scale >= value * (1 - 1e-12):
            return step * scale
    return 10 * scale  # pragma: no cover - the loop ends at 10


def y_limits(
    values: Sequence[np.ndarray],
    band: tuple[float, float] | None,
    floor: float | None,
    y_range: tuple[float, float] | None,
) -> tuple[float, float]:
    """The y axis of a chart: a fixed range widened in round steps if needed, or fitted to the data."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.zeros(0)])
    if y_range is not None:
        lo, hi = y_range
        if finite.size and finite.max() > hi:
            hi = nice_ceiling(float(finite.max())) if finite.max() > 0 else float(finite.max())
        if finite.size and finite.min() < lo:
            lo = -nice_ceiling(-float(finite.min())) if finite.min() < 0 else float(finite.min())
        return lo, hi
    if floor is not None:
        finite = np.append(finite, floor)
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if band:
        lo, hi = min(lo, band[0]), max(hi, band[1])
    if hi - lo < 1e-9:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    pad = 0.06 * (hi - lo)
    return lo - (pad if floor is None or lo < floor else 0), hi + pad


def year_ticks(periods: int, per_year: int, most: int = 8) -> list[int]:
    """Whole years to label on an x axis of ``periods`` periods (at most about ``most`` labels)."""
    years = periods / per_year
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 10**9) if years / s <= most)
    return list(range(0, int(years) + 1, step))


def _n(value: float) -> str:
    """A coordinate or size as short text (whole numbers without a decimal point)."""
    return f"{value:g}"


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    periods: int,
    unit: str = "index",
    band: tuple[float, float] | None = None,
    floor: float | None = None,
    y_range: tuple[float, float] | None = None,
    per_year: int = 4,
    legend: bool = True,
    chart_id: str = "",
    text: float = 10.0,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    title_row: bool = True,
) -> str:
    """An SVG chart of ``lines`` over ``periods`` periods; x in years (period i ends at (i + 1) / per_year).

    Without ``legend`` the lines are drawn without legend rows (a page shows one shared
    legend instead, e.g. the debrief's tables) and the plot area starts under the title.
    ``text`` is the labels' size in the chart's own units (margins grow with it) and ``size``
    the chart's width and height in those units: a page that shows the chart narrower than
    ``size`` shrinks its labels in proportion, so a chart meant for a phone or a projector
    gets larger ``text`` for its width. Without ``title_row`` the title is not drawn (the page
    shows it, and the legend, above the chart; it stays the chart's accessible name) and the
    plot starts at the top.
    """
    k = text / 10
    width, height = size
    left, right, bottom = LEFT * k, RIGHT * k, BOTTOM * k
    values = [np.asarray(line.values, dtype=float) for line in lines]
    lo, hi = y_limits(values, band, floor, y_range)
    top = TOP * k if legend else (22 if title_row else 8) * k
    w, h = width - left - right, height - top - bottom
    years = max(periods / per_year, 1e-9)

    def x(years_at: np.ndarray) -> np.ndarray:
        return left + w * years_at / years

    def y(v: np.ndarray) -> np.ndarray:
        return top + h * (1 - (v - lo) / (hi - lo))

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'data-chart="{html.escape(chart_id)}" data-points="{max((len(v) for v in values), default=0)}" '
            f'data-ymin="{lo:.6g}" data-ymax="{hi:.6g}" role="img" aria-label="{html.escape(title)}" '
            f'style="font-family:system-ui,sans-serif;font-size:{_n(text)}px">'
        ),
    ]
    if title_row:
        parts.append(
            f'<text x="{_n(left)}" y="{_n(13 * k)}" font-size="{_n(12 * k)}" font-weight="600">{html.escape(title)}</text>'
        )
    if band:
        y0, y1 = y(np.array(min(band[1], hi))), y(np.array(max(band[0], lo)))
        parts.append(
            f'<rect x="{_n(left)}" y="{y0:.1f}" width="{_n(w)}" height="{max(y1 - y0, 0):.1f}" fill="#dcfce7"/>'
        )
    for frac in (0.0, 0.5, 1.0):
        value = lo + frac * (hi - lo)
        yy = y(np.array(value))
        parts.append(
            f'<line x1="{_n(left)}" x2="{_n(left + w)}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{_n(left - 4 * k)}" y="{yy + 3 * k:.1f}" text-anchor="end" fill="#6b7280">{fmt(value, unit)}</text>'
        )
    ticks = year_ticks(periods, per_year, max(2, int(w / (3.5 * text))))  # labels as large as ``text`` fit
    for year in ticks:
        xx = float(x(np.array(year)))
        label = f"{year} years" if year == ticks[-1] and year else str(year)
        anchor = "end" if year == ticks[-1] and year else ("start" if year == 0 else "middle")
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{_n(top + h)}" y2="{_n(top + h + 3 * k)}" stroke="#9ca3af"/>'
            f'<text x="{xx:.1f}" y="{_n(height - 5 * k)}" text-anchor="{anchor}" fill="#6b7280">{label}</text>'
        )
    legend_x, legend_y = left, 18 * k
    for line, v in zip(lines, values, strict=True):
        dash = f' stroke-dasharray="{html.escape(line.dash)}"' if line.dash else ""
        color = html.escape(line.color)
        if len(v):
            at = (np.arange(len(v)) + 1) / per_year
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x(at), y(np.nan_to_num(v, nan=lo)), strict=True))
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8"{dash} points="{pts}"/>')
        if not legend:
            continue
        item = 14 * k + 5.6 * k * len(line.label)
        if legend_x + item > left + w and legend_x > left:  # wrap to the next legend row
            legend_x, legend_y = left, legend_y + LEGEND_ROW * k
        parts.append(
            f'<line x1="{_n(legend_x)}" x2="{_n(legend_x + 12 * k)}" y1="{_n(legend_y + 4 * k)}" '
            f'y2="{_n(legend_y + 4 * k)}" stroke="{color}" stroke-width="2"{dash}/>'
            f'<text x="{_n(legend_x + 15 * k)}" y="{_n(legend_y + 7 * k)}" fill="#374151">{html.escape(line.label)}</text>'
        )
        legend_x += item + 4 * k
    parts.append("</svg>")
    return "".join(parts)
