"""Figures formatted for people: money with k/M/B, percentages, years; one place for reports and terminal."""

from __future__ import annotations

from typing import Any


def money(value: float | None, currency: str) -> str:
    """A money amount with a k/M/B suffix, e.g. ``EUR 12.3M`` (``-EUR 1.2M`` below zero)."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{sign}{currency} {v / div:,.1f}{suffix}"
    return f"{sign}{currency} {v:,.0f}"


def signed_money(value: float | None, currency: str) -> str:
    """``+EUR 1.2M`` / ``-EUR 1.2M``: a change."""
    if value is None:
        return "n/a"
    return ("+" if value >= 0 else "") + money(value, currency)


def pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def signed_pct_points(value: float | None, digits: int = 1) -> str:
    """A change of a share in percentage points, e.g. ``+1.5 pp``."""
    return "n/a" if value is None else f"{100 * value:+.{digits}f} pp"


def years(periods: float, per_year: int) -> str:
    """``2.5 years`` from a number of periods."""
    y = periods / per_year
    return f"{y:.1f} years" if y != 1 else "1 year"


def period_text(period: float | None, per_year: int) -> str:
    """A point in time: 'period 26 (year 7)' for a whole period, 'after 8.9 years' for a mean over runs."""
    if period is None:
        return "never"
    if float(period).is_integer():
        p = int(period)
        return f"period {p} (year {p // per_year + 1})"
    return f"after {period / per_year:.1f} years"


def count_words(counts: dict[str, Any]) -> str:
    """Outcome counts as 'spiral 3, equilibrium 7' (zeros left out)."""
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"
