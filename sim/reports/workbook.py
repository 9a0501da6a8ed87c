"""report.xlsx: the answer and key figures, the per-period series and the per-account table, formatted.

Strategy teams live in spreadsheets. Every run, replicate set, comparison and what-if
writes one workbook (openpyxl) whose numbers are the very values in summary.json,
formatted as currency, percent or years by the cell format (not rounded), so a team can
compute with them. Text cells are always text (an account called ``=HYPERLINK(...)``
stays a name), and the file is byte-identical for the same run (fixed timestamps).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.engine.series import COUNT_SERIES, MONEY_SERIES, SHARE_SERIES
from sim.reports.account_table import account_table
from sim.reports.cells import FORMULA_START
from sim.reports.labels import (
    ACCOUNT_COLUMNS,
    CELL_KIND,
    METRICS,
    account_kind,
    account_label,
    metric_label,
    series_kind,
    series_label,
)
from sim.reports.pages import KEY_METRICS, matching_description, scenario_changes

FIXED_TIME = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - openpyxl stores naive times; fixed for byte-identical files


@dataclass(frozen=True)
class Chart:
    """A native chart of a sheet's columns: lines over a numeric x (``line``) or horizontal bars (``bar``).

    The y axis starts at zero when every value is at or above it (a small change looks small).
    """

    title: str
    x: str  # the column of x values (bar: of category labels)
    ys: Sequence[str]
    kind: str = "line"
    x_title: str = ""
    y_title: str = ""
    y_kind: str = "money"  # the axis' number format (a kind of number_format)


@dataclass
class Sheet:
    """A table for one sheet: a frame, the kind of each column (money, pct, index, int, years, text), its charts."""

    name: str
    frame: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    highlight: Sequence[bool] = ()
    headers: dict[str, str] = field(default_factory=dict)
    row_kinds: Sequence[str] = ()  # when given, each row's numbers take its row's format
    charts: Sequence[Chart] = ()


def number_format(kind: str, currency: str, value: float | None = None) -> str | None:
    """The cell format of a kind; shares and plain numbers get the decimals a small value needs."""
    if kind == "pct" and value is not None and 0 < abs(value) < 0.01:
        return "0.000%" if abs(value) < 0.001 else "0.00%"
    if kind == "number" and value is not None and 0 < abs(value) < 0.1:
        return "#,##0.000"
    symbol = _format_literal(currency)
    return {
        "money": f"{symbol} #,##0;-{symbol} #,##0",
        "pct": "0.0%",
        "pp": "+0.0%;-0.0%;0.0%",
        "index": "0.000",
        "signed_index": "+0.000;-0.000;0.000",
        "int": "#,##0",
        "years": "0.00",
        "number": "#,##0.0",
        "rate": '0.0"%"',
    }.get(kind)


def shown_width(value: Any, kind: str, currency: str) -> int:
    """About how many characters a cell shows (its number formatted as the workbook formats it)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return len(str(value))
    v = float(value)
    text = {
        "money": f"{currency} {abs(v):,.0f}" + ("-" if v < 0 else ""),
        "pct": f"{100 * v:.3f}%",
        "rate": f"{v:.1f}%",
        "index": f"{v:.3f}",
        "signed_index": f"{v:+.3f}",
        "int": f"{v:,.0f}",
        "years": f"{v:.2f}",
    }.get(kind, f"{v:,.3f}")
    return len(text)


def _format_literal(text: str) -> str:
    """``text`` as literal text in a number format: in double quotes, a double quote in it written ``\\"``.

    Control characters are dropped (a format cannot hold them), so a currency such as
    ``EU"R`` or ``[$`` gives a valid format that shows it, not a broken workbook.
    """
    printable = "".join(c for c in text if c.isprintable())
    return '"' + printable.replace('"', '"\\""') + '"'


def series_sheet(name: str, frame: pd.DataFrame, per_year: int, charts: Sequence[Chart] = ()) -> Sheet:
    """The per-period series with a leading ``year`` column (end of the period, in years), labelled for people."""
    data = frame.copy()
    data.insert(1 if "period" in data.columns else 0, "year", (data["period"] + 1) / per_year)
    kinds = {}
    for column in data.columns:
        base = column.split("__")[0]
        if base in MONEY_SERIES:
            kinds[column] = "money"
        elif base in SHARE_SERIES:
            kinds[column] = "pct"
        elif base in COUNT_SERIES:
            kinds[column] = "int"
        else:
            kind = series_kind(column)
            kinds[column] = kind if kind in ("int", "years", "money", "pct") else "index"
    headers = {column: series_label(column) for column in data.columns}
    return Sheet(name, data, kinds, headers=headers, charts=charts)


def write_workbook(
    path: Path,
    *,
    title: str,
    currency: str,
    summary_rows: Sequence[tuple[str, Any, str]],
    sheets: Sequence[Sheet] = (),
    summary_charts: Sequence[tuple[Sheet, Chart]] = (),
) -> None:
    """Write the workbook: a Summary sheet of (label, value, kind) rows, then one sheet per table.

    Columns are as wide as what they show (no ``###``), headers are people's labels, and
    ``summary_charts`` are drawn on the Summary sheet from the named sheets' columns.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    book.properties.creator = "procsim"
    book.properties.created = book.properties.modified = FIXED_TIME
    summary = book.active
    summary.title = "Summary"
    _text(summary.cell(1, 1), title).font = Font(bold=True, size=14)
    row = 3
    label_width, value_width = 20, 14
    for label, value, kind in summary_rows:
        if kind == "heading":
            _text(summary.cell(row + 1, 1), label).font = Font(bold=True, size=12)
            row += 2
            continue
        _text(summary.cell(row, 1), label)
        label_width = max(label_width, len(str(label)) + 2)
        cell = summary.cell(row, 2)
        _put(cell, value)
        if kind == "sentence":
            summary.cell(row, 1).alignment = Alignment(vertical="top")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = Font(bold=True)
            summary.row_dimensions[row].height = 15 * (1 + len(str(value)) // 90)
        elif kind == "text" and len(str(value)) > 90:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            summary.row_dimensions[row].height = 15 * (1 + len(str(value)) // 90)
        else:
            value_width = max(value_width, min(90, shown_width(value, kind, currency) + 3))
        fmt = number_format(kind, currency, value if isinstance(value, int | float) else None)
        if fmt and isinstance(value, int | float):
            cell.number_format = fmt
        row += 1
    summary.column_dimensions["A"].width = min(label_width, 70)
    summary.column_dimensions["B"].width = 90 if any(k == "sentence" for _, _, k in summary_rows) else value_width
    fill = PatternFill("solid", fgColor="FFF3C4")
    sheets_by_name = {}
    for sheet in sheets:
        ws = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "-", sheet.name)[:31])
        sheets_by_name[sheet.name] = ws
        columns = list(sheet.frame.columns)
        kinds = [sheet.kinds.get(c, "") for c in columns]
        for j, column in enumerate(columns, start=1):
            header = _text(ws.cell(1, j), sheet.headers.get(column, column))
            header.font = Font(bold=True)
            header.alignment = Alignment(wrap_text=True, vertical="bottom")
        widths = [0] * len(columns)
        for i, values in enumerate(sheet.frame.itertuples(index=False), start=2):
            marked = bool(sheet.highlight[i - 2]) if len(sheet.highlight) else False
            row_kind = sheet.row_kinds[i - 2] if len(sheet.row_kinds) else None
            for j, value in enumerate(values, start=1):
                cell = ws.cell(i, j)
                _put(cell, value)
                number = (
                    cell.value if isinstance(cell.value, int | float) and not isinstance(cell.value, bool) else None
                )
                kind = row_kind or kinds[j - 1]
                fmt = number_format(kind, currency, number) if number is not None else None
                if fmt:
                    cell.number_format = fmt
                widths[j - 1] = max(
                    widths[j - 1], shown_width(cell.value, kind if number is not None else "text", currency)
                )
                if marked:
                    cell.fill = fill
        for j, column in enumerate(columns, start=1):
            header = str(sheet.headers.get(column, column))
            fit = max(widths[j - 1], min(len(header), 24)) + 3
            ws.column_dimensions[ws.cell(1, j).column_letter].width = max(8, min(60, fit))
        ws.row_dimensions[1].height = 15 * max(
            1, max((len(str(sheet.headers.get(c, c))) // 24 + 1 for c in columns), default=1)
        )
        ws.freeze_panes = "B2"
        for k, chart in enumerate(sheet.charts):
            anchor = f"{_column_letter(len(columns) + 2)}{2 + 18 * k}"
            ws.add_chart(_chart(ws, sheet, chart, currency), anchor)
    for k, (sheet, chart) in enumerate(summary_charts):
        ws = sheets_by_name[sheet.name]
        summary.add_chart(_chart(ws, sheet, chart, currency), f"D{3 + 18 * k}")
    for ws in book.worksheets:  # printed (or saved as PDF): landscape, every column on the page
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_reproducible(buffer.getvalue()))


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _chart(ws: Any, sheet: Sheet, chart: Chart, currency: str) -> Any:
    """An openpyxl chart of ``sheet``'s columns as written on ``ws``."""
    from openpyxl.chart import BarChart, Reference, ScatterChart, Series

    columns = list(sheet.frame.columns)
    n = len(sheet.frame)
    x_col = columns.index(chart.x) + 1
    xs = Reference(ws, min_col=x_col, min_row=2, max_row=n + 1)
    values = sheet.frame[list(chart.ys)].to_numpy(dtype=float)
    finite = values[~pd.isna(values)]
    if chart.kind == "bar":
        plot = BarChart()
        plot.type = "bar"
        plot.grouping = "clustered"
        for y in chart.ys:
            col = columns.index(y) + 1
            plot.add_data(Reference(ws, min_col=col, min_row=1, max_row=n + 1), titles_from_data=True)
        plot.set_categories(xs)
        plot.x_axis.scaling.orientation = "maxMin"  # the first row on top, as in the table
    else:
        plot = ScatterChart()
        plot.style = 13
        for y in chart.ys:
            col = columns.index(y) + 1
            series = Series(Reference(ws, min_col=col, min_row=2, max_row=n + 1), xs, title=sheet.headers.get(y, y))
            series.marker.symbol = "none"
            series.smooth = False
            plot.series.append(series)
        plot.x_axis.scaling.min = float(sheet.frame[chart.x].min())
        plot.x_axis.scaling.max = float(sheet.frame[chart.x].max())
    plot.title = chart.title
    plot.x_axis.title = chart.x_title or None
    plot.y_axis.title = chart.y_title or None
    fmt = number_format(chart.y_kind, currency)
    if fmt:
        plot.y_axis.number_format = fmt
        plot.y_axis.numFmt.sourceLinked = False if plot.y_axis.numFmt is not None else None
    if finite.size and finite.min() >= 0:
        plot.y_axis.scaling.min = 0
    elif finite.size and finite.max() <= 0:
        plot.y_axis.scaling.max = 0
    plot.x_axis.delete = False
    plot.y_axis.delete = False
    plot.x_axis.tickLblPos = "low"  # labels at the bottom (or left) even when values fall below zero
    plot.legend.position = "b"
    plot.width, plot.height = 18, 9
    return plot


def _text(cell: Any, value: str) -> Any:
    """Put text in a cell as text: never read as a formula, whatever it starts with.

    Text that a spreadsheet would take for a formula (:data:`sim.reports.cells.FORMULA_START`)
    also gets Excel's own quote prefix, so it stays text when someone edits the cell, and it
    shows as typed (no apostrophe in the cell).
    """
    text = str(value)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True
    return cell


def _put(cell: Any, value: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
    elif isinstance(value, bool):
        cell.value = value
    elif isinstance(value, int | float):
        cell.value = float(value) if isinstance(value, float) else int(value)
    elif hasattr(value, "item"):  # numpy scalars
        _put(cell, value.item())
    else:
        _text(cell, value)


def _reproducible(data: bytes) -> bytes:
    """The same archive with fixed member timestamps, so the same workbook gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            target.writestr(fixed, data)
    return out.getvalue()


# --------------------------------------------------------------------------- layouts of each kind of output

KIND_OF = CELL_KIND  # a metric's kind -> its cell format's kind
ACCOUNT_HEADERS = {
    key: label
    for key, (label, _) in ACCOUNT_COLUMNS.items()
    if key not in ("yours_change", "yours_change_p10", "yours_change_p90", "contribution_change")
}
ACCOUNT_KINDS = {key: CELL_KIND[kind] for key, (_, kind) in ACCOUNT_COLUMNS.items()}
STAT_HEADERS = {"metric": "Key", "label": "Figure", "mean": "Mean", "p10": "10th percentile", "p90": "90th percentile"}


def account_sheet(name: str, table: pd.DataFrame, columns: Sequence[str] | None = None, **kwargs: Any) -> Sheet:
    """A per-account table with people's headers (both sides' columns say which side)."""
    frame = (table[list(columns)] if columns is not None else table).copy()
    for column in frame.columns:
        if frame[column].dtype == bool:
            frame[column] = frame[column].map({True: "yes", False: ""})
    kinds = {c: CELL_KIND[account_kind(c)] for c in frame.columns}
    headers = {c: account_label(c) for c in frame.columns}
    return Sheet(name, frame, kinds, headers=headers, **kwargs)


def _key_rows(metrics: dict[str, Any]) -> list[tuple[str, Any, str]]:

    return [(label, metrics.get(key), KIND_OF[kind]) for key, label, kind in KEY_METRICS]


def _key_sheet(metrics: dict[str, Any], columns: Sequence[str]) -> Sheet:
    """Every metric of summary.json with its label, one column per statistic or side."""

    rows = [
        {"metric": key, "label": metric_label(key), **{c: _cell_value(values.get(c)) for c in columns}}
        for key, values in metrics.items()
    ]
    frame = pd.DataFrame(rows, columns=["metric", "label", *columns])
    headers = {c: STAT_HEADERS.get(c, c) for c in frame.columns}
    row_kinds = [CELL_KIND[METRICS.get(r["metric"], ("", "number"))[1]] for r in rows]
    return Sheet("Key figures", frame, headers=headers, row_kinds=row_kinds)


def _cell_value(value: Any) -> Any:
    """A metric's value for a cell: numbers stay numbers; anything else (a list, a side) as text."""
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def _header_rows(title: str, description: str, changes: Sequence[str], outcome: str) -> list[tuple[str, Any, str]]:
    rows: list[tuple[str, Any, str]] = [("Scenario", title, "text")]
    if description:
        rows.append(("Description", description, "text"))
    rows.append(("Changes (overrides and grants)", "; ".join(changes) or "none", "text"))
    rows.append(("Outcome", outcome, "text"))
    return rows


def _scenario_rows(summary: dict[str, Any], scenario: Any) -> list[tuple[str, Any, str]]:
    """The header rows of a run's or a replicated run's workbook: scenario, description, changes, outcome."""

    changes = scenario_changes(scenario)
    description = matching_description(summary["description"], summary["outcome"], bool(changes))
    return _header_rows(summary["scenario"], description, changes, summary["outcome"])


def run_workbook(result: Any, path: Path) -> None:
    """report.xlsx of one run."""

    s, sc = result.summary, result.scenario
    rows = _scenario_rows(s, sc)
    rows += [
        ("Outcome detail", s["outcome_detail"], "text"),
        ("Seed", s["seed"], "int"),
        ("Horizon (years)", s["periods"] / s["periods_per_year"], "years"),
        ("Key figures", None, "heading"),
        *_key_rows(s["metrics"]),
    ]
    if result.totals is not None:
        rows.append(("Your company's profit (first supplier)", float(result.totals.supplier_profit[0]), "money"))
    accounts = account_table(sc, [result]) if result.totals is not None else None
    sheets = [series_sheet("Series", result.timeseries, s["periods_per_year"], charts=SERIES_CHARTS)]
    if accounts is not None:
        sheets.append(account_sheet("Accounts", accounts, RUN_ACCOUNT_COLUMNS))
    write_workbook(path, title=f"procsim: {s['scenario']}", currency=s["currency"], summary_rows=rows, sheets=sheets)


def replicates_workbook(result: Any, path: Path, median: pd.DataFrame) -> None:
    """report.xlsx of a replicated run: outcome counts, metric spreads, median series, per-account means."""

    s, sc = result.summary, result.scenario
    rows = _scenario_rows(s, sc)
    rows += [
        ("Replicates", s["replicates"], "int"),
        ("Horizon (years)", s["periods"] / s["periods_per_year"], "years"),
        ("Outcome counts", None, "heading"),
        *[(o, n, "int") for o, n in s["outcomes"].items()],
    ]
    sheets = [
        _key_sheet(s["metrics"], ("mean", "p10", "p90")),
        series_sheet("Series (median)", median, s["periods_per_year"], charts=SERIES_CHARTS),
        account_sheet("Accounts (mean)", account_table(sc, result.runs), REPLICATE_ACCOUNT_COLUMNS),
    ]
    write_workbook(
        path,
        title=f"procsim: {s['scenario']} x{s['replicates']}",
        currency=s["currency"],
        summary_rows=rows,
        sheets=sheets,
    )


RUN_ACCOUNT_COLUMNS = (
    "account",
    "segment",
    "customers",
    "discount",
    "volume",
    "contribution",
    "yours",
    "customer_value",
    "supplier_value",
    "switched",
    "left",
    "status",
)
REPLICATE_ACCOUNT_COLUMNS = (
    *RUN_ACCOUNT_COLUMNS[:6],
    "contribution_p10",
    "contribution_p90",
    "yours",
    "yours_p10",
    "yours_p90",
    *RUN_ACCOUNT_COLUMNS[7:],
)
SERIES_CHARTS = (
    Chart(
        "Capability index and average discount",
        "year",
        ("capability_index", "discount_mean"),
        x_title="years",
        y_kind="index",
    ),
    Chart(
        "Value per period to each side", "year", ("customer_value", "supplier_value", "joint_value"), x_title="years"
    ),
)
