"""Names and units for people: swept parameters from the scenario schema, metrics from the reports' label table.

A sweep's parameters are dotted paths (``customers.procurement.savings_target``); the
analysis page shows them as the schema describes them ("savings target", a percentage)
and formats every value in its unit: shares as percent, money with the scenario's
currency, counts as whole numbers.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.inputs.schema import field_at
from sim.inputs.values import Bounds
from sim.reports.fmt import money
from sim.reports.labels import METRICS as LABELLED_METRICS
from sim.reports.labels import SERIES as LABELLED_SERIES

# Paths whose last part alone would read oddly.
NAMES = {
    "suppliers.strategy": "supplier strategy",
    "customers.procurement.style": "procurement style",
    "suppliers.count": "suppliers",
    "customers.count": "customers",
    "suppliers.share": "supplier share",
    "customers.engagement": "customer engagement",
    "periods": "horizon (periods)",
}
MONEY_FIELDS = frozenset({"annual_revenue"})

# Metrics and market series: display name and kind, from the one label table every output shares
# (the same words, starting in lower case as in the analysis page's sentences and tables).
METRICS: dict[str, tuple[str, str]] = {k: (v[0][:1].lower() + v[0][1:], v[1]) for k, v in LABELLED_METRICS.items()}
SERIES: dict[str, tuple[str, str]] = {k: (v[0][:1].lower() + v[0][1:], v[1]) for k, v in LABELLED_SERIES.items()}
OUTCOME_WORDS = {
    "collapse": "collapse",
    "spiral": "spiral",
    "equilibrium": "settle in equilibrium",
    "growth": "grow",
    "drifting": "keep drifting",
}


@dataclass(frozen=True)
class Parameter:
    """A swept parameter as people read it: its name, its unit and how to write a value."""

    path: str
    name: str
    unit: str  # percent | money | number | whole | text
    currency: str = "EUR"

    def format(self, value: Any, digits: int = 1) -> str:
        """A value in the parameter's unit: ``4.9%``, ``EUR 1.2M``, ``0.5``, ``concede``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if isinstance(value, str) or self.unit == "text":
            return str(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        v = float(value)
        if self.unit == "percent":
            return f"{_trim(100 * v, digits)}%"
        if self.unit == "money":
            return money(v, self.currency)
        if self.unit == "whole":
            return f"{v:,.0f}"
        return f"{v:.4g}"

    def precise(self, value: Any, span: float) -> str:
        """A value to about a hundredth of ``span`` (its parameter's range in the sweep), trailing zeros dropped:
        a box bound of 0.62537 over a range of 1 is ``0.63``, of 0.012537 over 20% is ``1.25%``."""
        if self.unit not in ("percent", "number") or not isinstance(value, int | float) or span <= 0:
            return self.format(value)
        scale = 100 * span if self.unit == "percent" else span
        digits = max(0, math.ceil(-math.log10(scale / 100)))
        if self.unit == "percent":
            return self.format(value, digits)
        return _trim(float(value), digits)

    def span(self, low: float, high: float, digits: int = 1) -> str:
        """A range in the unit, the unit once: ``4.7-5.1%``."""
        if self.unit == "percent":
            return f"{_trim(100 * low, digits)}-{_trim(100 * high, digits)}%"
        return f"{self.format(low, digits)} to {self.format(high, digits)}"

    def with_value(self, value: Any) -> str:
        """The parameter at a value, as a phrase: ``a 4.9% savings target``, ``margin defense 0.5``."""
        if self.unit == "percent":
            return f"a {self.format(value)} {self.name}"
        return f"{self.name} {self.format(value)}"


def _trim(number: float, digits: int) -> str:
    text = f"{number:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(path: str, currency: str = "EUR") -> Parameter:
    """The schema's view of a dotted scenario path (unknown paths keep their last part as the name)."""
    info = field_at(path)
    last = path.rsplit(".", 1)[-1]
    name = NAMES.get(path) or last.replace("_", " ")
    if info is None:
        return Parameter(path, name, "number", currency)
    bounds = next((m for m in info.metadata if isinstance(m, Bounds)), None)
    if last in MONEY_FIELDS:
        unit = "money"
    elif bounds is not None:
        unit = "percent" if bounds.pct else "number"
    elif info.annotation is int:
        unit = "whole"
    elif info.annotation is str or typing.get_origin(info.annotation) is typing.Literal:
        unit = "text"
    else:
        unit = "number"
    return Parameter(path, name, unit, currency)


def metric_name(metric: str) -> str:
    """A metric's (or market series') display name (its column name with spaces when it has none)."""
    return (METRICS.get(metric) or SERIES.get(metric) or (metric.replace("_", " "), ""))[0]


def unit_of(metric: str) -> str:
    """A metric's or market series' kind: money, pct, index, count, period ('' when unknown)."""
    return (METRICS.get(metric) or SERIES.get(metric) or ("", ""))[1]


def format_metric(metric: str, value: Any, currency: str) -> str:
    """A metric's value in its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    kind = (METRICS.get(metric) or SERIES.get(metric) or ("", ""))[1]
    v = float(value)
    if kind == "money":
        return money(v, currency)
    if kind == "pct":
        return f"{_trim(100 * v, 1)}%"
    if kind == "rate":  # already in percent (retention)
        return f"{_trim(v, 1)}%"
    if kind in ("count", "period", "int"):
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    return f"{v:.3f}" if abs(v) < 1e4 else f"{v:,.0f}"


def outcome_words(outcomes: list[str]) -> str:
    """``spiral or collapse``."""
    words = [OUTCOME_WORDS.get(o, o) for o in outcomes]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def people_table(
    frame: pd.DataFrame,
    currency: str = "EUR",
    *,
    parameters: dict[str, str] | None = None,
    percent: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A table for people: metrics and series named and in their units (money with the currency, shares as
    percent), ``parameters`` (column -> scenario path) as the schema shows them, ``percent`` columns as percent."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if parameters and column in parameters:
            parameter = describe(parameters[column], currency)
            out[parameter.name] = [parameter.format(v) for v in values]
        elif column in percent:
            out[column.replace("_", " ")] = [f"{_trim(100 * float(v), 1)}%" for v in values]
        elif column in METRICS or column in SERIES:
            out[metric_name(column)] = [format_metric(column, v, currency) for v in values]
        else:
            out[column.replace("_", " ")] = values
    return out
