"""Small line charts as inline SVG: cheap enough to redraw at every period while playing.

A matplotlib figure costs tens of milliseconds to render and ship; these are a few
kilobytes of text built with numpy, so a 40-period demo plays with every chart updating.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT = 340, 184
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 44, 20  # TOP: the title and two rows of legend, above the data
LEGEND_ROW = 11


@dataclass(frozen=True)
class Line:
    """One series: its values over periods, a label, a colour and a dash pattern ('' for solid)."""

    values: Sequence[float]
    label: str
    color: str
    dash: str = ""


def _fmt(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.0%}" if abs(value) >= 0.1 or value == 0 else f"{value:.1%}"
    if unit == "money":
        for scale, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(value) >= scale:
                return f"{value / scale:.1f}{suffix}"
        return f"{value:.0f}"
    return f"{value:.2f}"


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    periods: int,
    unit: str = "index",
    band: tuple[float, float] | None = None,
    floor: float | None = None,
    chart_id: str = "",
) -> str:
    """An SVG chart of ``lines`` over ``periods`` periods (x fixed to the horizon, y fitted to the data)."""
    values = [np.asarray(line.values, dtype=float) for line in lines]
    finite = np.concatenate([v[np.isfinite(v)] for v in values] + [np.array([0.0 if floor is not None else np.nan])])
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if band:
        lo, hi = min(lo, band[0]), max(hi, band[1])
    if floor is not None:
        lo = min(lo, floor)
    if hi - lo < 1e-9:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    pad = 0.06 * (hi - lo)
    lo, hi = lo - (pad if floor is None or lo < floor else 0), hi + pad
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(periods - 1, 1)

    def x(i: np.ndarray) -> np.ndarray:
        return LEFT + w * i / span

    def y(v: np.ndarray) -> np.ndarray:
        return TOP + h * (1 - (v - lo) / (hi - lo))

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
            f'data-chart="{html.escape(chart_id)}" data-points="{max((len(v) for v in values), default=0)}" '
            'style="font-family:system-ui,sans-serif;font-size:10px">'
        ),
        f'<text x="{LEFT}" y="13" font-size="12" font-weight="600">{html.escape(title)}</text>',
    ]
    if band:
        y0, y1 = y(np.array(band[1])), y(np.array(band[0]))
        parts.append(f'<rect x="{LEFT}" y="{y0:.1f}" width="{w}" height="{y1 - y0:.1f}" fill="#dcfce7"/>')
    for frac in (0.0, 0.5, 1.0):
        value = lo + frac * (hi - lo)
        yy = y(np.array(value))
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 4}" y="{yy + 3:.1f}" text-anchor="end" fill="#6b7280">{_fmt(value, unit)}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 5}" fill="#6b7280">period 1</text>'
        f'<text x="{LEFT + w}" y="{HEIGHT - 5}" text-anchor="end" fill="#6b7280">period {periods}</text>'
    )
    legend_x, legend_y = LEFT, 18
    for line, v in zip(lines, values, strict=True):
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        if len(v):
            pts = " ".join(
                f"{a:.1f},{b:.1f}" for a, b in zip(x(np.arange(len(v))), y(np.nan_to_num(v, nan=lo)), strict=True)
            )
            parts.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="1.8"{dash} points="{pts}"/>')
        item = 14 + 5.6 * len(line.label)
        if legend_x + item > LEFT + w and legend_x > LEFT:  # wrap to the next legend row
            legend_x, legend_y = LEFT, legend_y + LEGEND_ROW
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 12}" y1="{legend_y + 4}" y2="{legend_y + 4}" '
            f'stroke="{line.color}" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 15}" y="{legend_y + 7}" fill="#374151">{html.escape(line.label)}</text>'
        )
        legend_x += item + 4
    parts.append("</svg>")
    return "".join(parts)
