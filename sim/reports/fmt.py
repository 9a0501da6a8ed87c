"""Figures formatted for people: money with k/M/B, percentages, years; one place for reports and terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, ""))
Unit = tuple[float, str]


def unit_for(values: Sequence[float | None]) -> Unit:
    """The largest k/M/B unit that keeps the biggest of ``values`` at 1 or more (to print several in one unit)."""
    biggest = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    return next(((d, s) for d, s in UNITS if biggest >= d), (1.0, ""))


def money(value: float | None, currency: str, unit: Unit | None = None) -> str:
    """A money amount with a k/M/B suffix, e.g. ``EUR 12.3M`` (``-EUR 1.2M`` below zero).

    One decimal in the value's own unit, or in ``unit`` when several amounts of a sentence
    must be read together; an amount that rounds to zero prints without a sign.
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    div, suffix = unit or unit_for([value])
    digits = 1 if suffix else 0
    shown = round(value / div, digits)
    sign = "-" if shown < 0 else ""
    return f"{sign}{currency} {abs(shown):,.{digits}f}{suffix}"


def signed_money(value: float | None, currency: str) -> str:
    """``+EUR 1.2M`` / ``-EUR 1.2M``: a change."""
    if value is None:
        return "n/a"
    return ("+" if value >= 0 else "") + money(value, currency)


def pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def signed_pct(value: float) -> str:
    """``+12%``, ``-3%``, or ``0%`` when it rounds to zero (a relative change)."""
    text = f"{100 * value:+.0f}%"
    return "0%" if text in ("+0%", "-0%") else text


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


def count_phrase(n: float, noun: str) -> str:
    """'1 account', '3 accounts', '2.5 accounts' (a mean over runs keeps one decimal)."""
    shown = f"{n:g}" if float(n).is_integer() else f"{n:.1f}"
    return f"{shown} {noun}{'' if n == 1 else 's'}"
