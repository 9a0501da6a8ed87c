"""Observed series as people have them: a CSV or XLSX with a time column and some of the model's series.

A team that calibrates has a spreadsheet: one row per quarter (or month, year, date or
model period) and a column per thing it measured, named as the model names its series
(``discount_mean``) or as people say it ("average discount", "supplier margin",
"customers served"). Cells may be empty (not measured then). Shares are written ``4.2%``
or ``0.042``, money as ``12.5M`` or ``800k``. The first row is the scenario's first period.
Every problem is one message naming the file, the row and the column, and nothing runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.capabilities import CAPABILITIES
from sim.engine.series import COUNT_SERIES, MARKET_SERIES, MONEY_SERIES, SHARE_SERIES
from sim.errors import InputError, clean, excerpt
from sim.inputs.tables import check_unpacked, csv_text
from sim.inputs.values import _suggest, amount

MAX_BYTES = 2_000_000  # 40 rows of a few dozen columns are a few kB
MAX_UNPACKED = 50_000_000  # an XLSX's members, unpacked
MAX_COLUMNS = 100
MIN_ROWS, MAX_ROWS = 3, 40
MISSING = frozenset({"", "na", "n/a", "nan", "-", "--", "\u2013", "\u2014", "none", "null", "missing", "?"})
TIME_COLUMNS = {
    "period": "period",
    "periods": "period",
    "quarter": "quarter",
    "qtr": "quarter",
    "month": "month",
    "year": "year",
    "date": "date",
    "as_of": "date",
    "time": "date",
}
# What people call the series, besides their names (keys are normalised: lower case, words joined by _).
ALIASES = {
    "discount_mean": ("discount", "average_discount", "avg_discount", "mean_discount", "discount_granted"),
    "demand_mean": ("procurement_demand", "demand", "discount_demanded", "average_demand", "demanded_discount"),
    "capability_index": ("capability", "capabilities", "capability_score"),
    "innovation": ("r_d", "rd", "innovation_r_d", "research_and_development"),
    "sales_coverage": ("sales", "sales_coverage_score"),
    "supplier_margin": ("margin", "operating_margin", "supplier_operating_margin", "average_margin"),
    "supplier_cash": ("cash",),
    "supplier_profit": ("profit",),
    "customers_served": ("customers", "served_customers", "number_of_customers", "active_customers"),
    "switches": ("customer_switches", "switching", "switched", "switches_per_period"),
    "active_suppliers": ("suppliers", "suppliers_active", "number_of_suppliers"),
    "exits": ("supplier_exits",),
    "redesigns": ("customer_redesigns",),
    "balance": ("balance_index", "supplier_share_of_joint_value"),
    "engagement_mean": ("engagement",),
    "trust_mean": ("trust",),
    "market_success_mean": ("market_success", "customers_market_success"),
    **{name: (f"{name}_score", f"{name}_index") for name in ("quality", "support")},
}
LABELS = {
    "discount_mean": "average discount",
    "demand_mean": "procurement demand",
    "capability_index": "capability index",
    "innovation": "innovation (R&D)",
    "sales_coverage": "sales coverage",
    "supplier_margin": "supplier margin",
    "customers_served": "customers served",
    "active_suppliers": "active suppliers",
}
_QUARTER = (re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$"), re.compile(r"^q([1-4])\s*[-/ ]?\s*(\d{4})$"))
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ t].*)?$")


def _key(text: str) -> str:
    """A header as a lookup key: units in brackets and % dropped, lower case, words joined by ``_``."""
    text = re.sub(r"\(.*?\)|\[.*?\]|%", " ", str(text)).strip().lower().replace("&", "_")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


NAMES: dict[str, str] = {name: name for name in MARKET_SERIES}
NAMES.update({_key(LABELS[name]): name for name in LABELS})
NAMES.update({alias: name for name, aliases in ALIASES.items() for alias in aliases})


def label(series: str) -> str:
    """A series as people read it: ``average discount``, ``supplier margin``, ``quality``."""
    return LABELS.get(series, series.removesuffix("_mean").replace("_", " "))


def kind(series: str) -> str:
    """How a series' values are written: share, money, count or index."""
    if series in SHARE_SERIES:
        return "share"
    if series in MONEY_SERIES:
        return "money"
    if series in COUNT_SERIES:
        return "count"
    return "index"


@dataclass(frozen=True)
class Observed:
    """Observed series: the model period of each row and, per series, a value or NaN (not observed)."""

    source: str
    series: tuple[str, ...]  # the model's names, in the file's column order
    headers: tuple[str, ...]  # the file's own column names, the same order
    periods: np.ndarray  # (rows,) model periods, strictly increasing, the first is 0 unless given as periods
    values: np.ndarray  # (rows, series) float, NaN where nothing was observed
    times: tuple[str, ...]  # each row's time as written (2024-Q3)
    rows: tuple[int, ...]  # each row's number in the file (for messages)
    time_kind: str  # period | quarter | month | year | date
    resolution: np.ndarray | None = None  # (series,) the step of the least precise value as written (0: exact)

    @property
    def points(self) -> int:
        """Observed values (cells that are not empty)."""
        return int(np.isfinite(self.values).sum())

    def frame(self) -> pd.DataFrame:
        """One row per observed period: ``period``, ``time`` and one column per series (model names)."""
        data = {"period": self.periods, "time": list(self.times)}
        data.update({name: self.values[:, j] for j, name in enumerate(self.series)})
        return pd.DataFrame(data)

    def check_horizon(self, periods: int) -> None:
        """Refuse rows beyond a scenario's horizon, naming the first such row."""
        beyond = np.flatnonzero(self.periods >= periods)
        if beyond.size:
            i = int(beyond[0])
            raise InputError(
                f"{self.times[i]} is period {int(self.periods[i])} of the scenario, beyond its horizon of {periods} "
                "periods; give --periods (or --years) to cover the observed rows",
                source=self.source,
                field=f"row {self.rows[i]}",
            )


def read_observed(path: str | Path, periods_per_year: int) -> Observed:
    """Read and check an observed file (CSV: UTF-8, comma or semicolon; XLSX: a sheet ``observed`` or the first)."""
    path = Path(path)
    source = str(path)
    try:
        if not path.is_file():
            raise InputError("is not a file (give the path of a .csv or .xlsx file)", source=source)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the observed file: {exc.strerror}", source=source) from None
    if size > MAX_BYTES:
        raise InputError(f"is {size:,} bytes; an observed file may be at most {MAX_BYTES:,} bytes", source=source)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path, source)
    elif suffix in (".csv", ".txt"):
        table = _csv_rows(path, source)
    else:
        raise InputError("an observed file must be .csv or .xlsx", source=source)
    return _parse(table, source, periods_per_year)


def _letter(index: int) -> str:
    out, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in MISSING)


def _parse(table: list[list[Any]], source: str, per_year: int) -> Observed:
    if not table or all(_blank(c) for c in table[0]):
        raise InputError("the file is empty; it needs a header row, e.g. quarter,average discount", source=source)
    header = table[0]
    if len(header) > MAX_COLUMNS:
        raise InputError(f"{len(header)} columns; an observed file may have at most {MAX_COLUMNS}", source=source)
    time_at, columns = _columns(header, source)
    body = [(n, row) for n, row in enumerate(table[1:], start=2) if not all(_blank(c) for c in row)]
    if len(body) < MIN_ROWS or len(body) > MAX_ROWS:
        raise InputError(
            f"{len(body)} rows of data; a calibration needs {MIN_ROWS} to {MAX_ROWS} observed periods", source=source
        )
    times, rows, positions, kinds = [], [], [], set()
    time_header = _key(header[time_at])
    values = np.full((len(body), len(columns)), np.nan)
    resolution = np.zeros(len(columns))
    for i, (number, row) in enumerate(body):
        if len(row) > len(header) and any(not _blank(c) for c in row[len(header) :]):
            raise InputError(f"{len(row)} cells but {len(header)} column names", source=source, field=f"row {number}")
        where = f"row {number}, column {_letter(time_at)} ({clean(str(header[time_at]).strip(), 30)})"
        cell = row[time_at] if time_at < len(row) else None
        if _blank(cell):
            raise InputError("this cell is empty; every row needs its time", source=source, field=where)
        found, position = _time(cell, time_header, source, where)
        kinds.add(found)
        if len(kinds) > 1:
            raise InputError(
                f"expected a {next(iter(kinds - {found}))} like the rows above, got {excerpt(cell)}",
                source=source,
                field=where,
            )
        times.append(f"period {_shown(cell)}" if found == "period" else _shown(cell))
        rows.append(number)
        positions.append(position)
        for j, (at, name) in enumerate(columns):
            value = row[at] if at < len(row) else None
            if not _blank(value):
                where = f"row {number}, column {_letter(at)} ({clean(str(header[at]).strip(), 30)})"
                values[i, j] = _value(value, name, source, where, "%" in str(header[at]))
                resolution[j] = max(resolution[j], _step_of(value, name, "%" in str(header[at])))
    time_kind = kinds.pop()
    periods = _periods(time_kind, positions, per_year, source, rows, times)
    for j, (at, _name) in enumerate(columns):
        if not np.isfinite(values[:, j]).any():
            raise InputError(
                "this column has no values; fill it in or remove it",
                source=source,
                field=f"column {_letter(at)} ({clean(str(header[at]).strip(), 30)})",
            )
    return Observed(
        source,
        tuple(name for _, name in columns),
        tuple(str(header[at]).strip() for at, _ in columns),
        periods,
        values,
        tuple(times),
        tuple(rows),
        time_kind,
        resolution,
    )


def _columns(header: list[Any], source: str) -> tuple[int, list[tuple[int, str]]]:
    """The time column's index and (index, series name) of every other named column."""
    time_at: int | None = None
    columns: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for at, cell in enumerate(header):
        if _blank(cell):
            continue
        key = _key(str(cell))
        where = f"row 1, column {_letter(at)}"
        if key in TIME_COLUMNS:
            if time_at is not None:
                raise InputError(
                    f"a second time column ({excerpt(cell)}); keep one of period, quarter, month, year or date",
                    source=source,
                    field=where,
                )
            time_at = at
            continue
        name = NAMES.get(key)
        if name is None:
            raise InputError(
                f"unknown series {excerpt(cell)}{_suggest(key, list(NAMES))}; the model's series are "
                f"{', '.join(label(n) for n in ('discount_mean', 'supplier_margin', 'capability_index', *CAPABILITIES, 'customers_served', 'switches'))}, "
                "... (docs/experiments.md lists them all)",
                source=source,
                field=where,
            )
        if name in seen:
            raise InputError(
                f"{excerpt(cell)} is the same series as column {_letter(seen[name])} ({label(name)})",
                source=source,
                field=where,
            )
        seen[name] = at
        columns.append((at, name))
    if time_at is None:
        raise InputError(
            "no time column; name one period, quarter (2024-Q3), month (2024-07), year or date (2024-09-30)",
            source=source,
            field="row 1",
        )
    if not columns:
        raise InputError(
            "no series to fit; add a column such as average discount, supplier margin or capability index",
            source=source,
            field="row 1",
        )
    return time_at, columns


def _shown(cell: Any) -> str:
    if isinstance(cell, dt.datetime | dt.date):
        return cell.strftime("%Y-%m-%d")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _time(cell: Any, header: str, source: str, where: str) -> tuple[str, float]:
    """A row's time as (kind, position): days for a date, years for a quarter, month or year, else the period."""
    if isinstance(cell, dt.datetime | dt.date):
        day = cell.date() if isinstance(cell, dt.datetime) else cell
        return "date", float(day.toordinal())
    if isinstance(cell, bool):
        raise InputError(f"expected a time, got {excerpt(cell)}", source=source, field=where)
    text = str(cell).strip()
    number = _plain_number(cell)
    if TIME_COLUMNS.get(header) == "period":
        if number is None or not float(number).is_integer() or number < 0:
            raise InputError(
                f"expected a model period (a whole number, 0 for the first), got {excerpt(cell)}",
                source=source,
                field=where,
            )
        return "period", float(number)
    low = text.lower()
    for pattern in _QUARTER:
        match = pattern.match(low)
        if match:
            year, q = (match[1], match[2]) if pattern is _QUARTER[0] else (match[2], match[1])
            return "quarter", int(year) + (int(q) - 1) / 4
    match = _DATE.match(low)
    if match:
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise InputError(f"not a date: {excerpt(cell)}", source=source, field=where) from None
        return "date", float(day.toordinal())
    match = _MONTH.match(low)
    if match and 1 <= int(match[2]) <= 12:
        return "month", int(match[1]) + (int(match[2]) - 1) / 12
    if number is not None and float(number).is_integer() and 1800 <= number <= 2300:
        return "year", float(number)
    raise InputError(
        f"expected a quarter (2024-Q3), a month (2024-07), a year (2024) or a date (2024-09-30), got {excerpt(cell)}",
        source=source,
        field=where,
    )


def _periods(
    kind_: str, positions: list[float], per_year: int, source: str, rows: list[int], times: list[str]
) -> np.ndarray:
    """Model periods of the rows: model periods as given; otherwise counted from the first row (period 0)."""
    values = np.array(positions)
    if kind_ == "period":
        exact = values
    elif kind_ == "date":
        exact = (values - values[0]) / 365.25 * per_year
    else:
        exact = (values - values[0]) * per_year
    periods = np.rint(exact).astype(np.int64)
    tolerance = 0.25 if kind_ == "date" else 1e-6
    for i in range(len(periods)):
        if abs(exact[i] - periods[i]) > tolerance:
            raise InputError(
                f"{times[i]} falls between two periods of the scenario ({per_year} a year); "
                f"use rows {_step(per_year)} apart",
                source=source,
                field=f"row {rows[i]}",
            )
        if i and periods[i] <= periods[i - 1]:
            same = periods[i] == periods[i - 1]
            raise InputError(
                f"{times[i]} is {'the same period as' if same else 'before'} the row above ({times[i - 1]}); "
                "rows go forward in time, one per period",
                source=source,
                field=f"row {rows[i]}",
            )
    return periods


def _step(per_year: int) -> str:
    return {4: "a quarter", 12: "a month", 1: "a year", 2: "half a year"}.get(per_year, f"1/{per_year} of a year")


def _step_of(cell: Any, series: str, in_percent: bool) -> float:
    """The step of a value as written (``7.4%`` -> 0.001, ``0.93`` -> 0.01); 0 for a number from a workbook."""
    if not isinstance(cell, str):
        return 0.0
    text = cell.strip().rstrip("%").strip()
    digits = len(text.partition(".")[2]) if "." in text else 0
    step = 10.0**-digits
    percent = cell.strip().endswith("%") or (in_percent and kind(series) == "share")
    return step / 100 if percent else step


def _plain_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().replace("_", ""))
    except ValueError:
        return None


def _value(cell: Any, series: str, source: str, where: str, in_percent: bool = False) -> float:
    """A cell of a series in its unit: shares as fractions (``4.2%`` or ``0.042``; plain numbers are percent
    under a header that says ``%``), money with k/M/B."""
    how = kind(series)
    if isinstance(cell, bool | dt.datetime | dt.date):
        raise InputError(f"expected a number, got {excerpt(_shown(cell))}", source=source, field=where)
    text = cell.strip() if isinstance(cell, str) else None
    percent = text is not None and text.endswith("%")
    if percent:
        number = _plain_number(text[:-1].strip())
        number = None if number is None else number / 100
    else:
        number = _plain_number(amount(cell) if text is not None else cell)
        if number is not None and in_percent and how == "share":
            number, percent = number / 100, True
    if number is None or not math.isfinite(number):
        example = {"share": "4.2% or 0.042", "money": "12.5M, 800k or 125000", "count": "a whole number"}.get(
            how, "a number such as 0.93"
        )
        raise InputError(f"expected {example}, got {excerpt(cell)}", source=source, field=where)
    if how == "share" and not percent and abs(number) > 1:
        raise InputError(
            f"{label(series)} is a share: write {number:g}% or {number / 100:g}, got {excerpt(cell)}",
            source=source,
            field=where,
        )
    if how == "count" and number < 0:
        raise InputError(f"a count cannot be negative, got {excerpt(cell)}", source=source, field=where)
    return float(number)


# --------------------------------------------------------------------------- files


def _csv_rows(path: Path, source: str) -> list[list[Any]]:
    raw = path.read_bytes()[: MAX_BYTES + 1]
    text, delimiter = csv_text(raw, source)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV: {exc}", source=source) from None
    if len(rows) > MAX_ROWS * 10 + 1:
        raise InputError(
            f"{len(rows) - 1:,} rows; a calibration reads {MIN_ROWS} to {MAX_ROWS} observed periods", source=source
        )
    return [list(row) for row in rows]


def _xlsx_rows(path: Path, source: str) -> list[list[Any]]:
    import openpyxl

    check_unpacked(path, source, MAX_UNPACKED)
    try:
        values = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__})", source=source) from None
    try:
        name = next((n for n in values.sheetnames if n.strip().lower() == "observed"), values.sheetnames[0])
        limit = MAX_ROWS * 10 + 1
        rows = [list(r)[: MAX_COLUMNS + 1] for r in values[name].iter_rows(values_only=True, max_row=limit)]
        kinds = [[c.data_type for c in r][: MAX_COLUMNS + 1] for r in formulas[name].iter_rows(max_row=limit)]
    except (AttributeError, TypeError, KeyError):
        raise InputError("the first sheet is not a table of cells", source=source) from None
    finally:
        values.close()
        formulas.close()
    for n, (row, types) in enumerate(zip(rows, kinds, strict=False), start=1):
        for i, (value, k) in enumerate(zip(row, types, strict=False)):
            if k == "f" and value is None:
                raise InputError(
                    "a formula without a saved value; open and save the file in Excel, or paste values",
                    source=source,
                    field=f"row {n}, column {_letter(i)}",
                )
    return rows
