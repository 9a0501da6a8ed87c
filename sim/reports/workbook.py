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

from sim.engine.recorder import COUNT_SERIES, MONEY_SERIES, SHARE_SERIES
from sim.reports.account_table import account_table
from sim.reports.pages import KEY_METRICS, matching_description, scenario_changes

FIXED_TIME = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - openpyxl stores naive times; fixed for byte-identical files


@dataclass
class Sheet:
    """A table for one sheet: a frame and the kind of each column (money, pct, index, int, years, text)."""

    name: str
    frame: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    highlight: Sequence[bool] = ()
    headers: dict[str, str] = field(default_factory=dict)
    row_kinds: Sequence[str] = ()  # when given, each row's numbers take its row's format


def number_format(kind: str, currency: str) -> str | None:
    """The cell format of a kind of figure; the currency is quoted as literal text whatever it holds."""
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
    }.get(kind)


def _format_literal(text: str) -> str:
    """``text`` as literal text in a number format: in double quotes, a double quote in it written ``\\"``.

    Control characters are dropped (a format cannot hold them), so a currency such as
    ``EU"R`` or ``[$`` gives a valid format that shows it, not a broken workbook.
    """
    printable = "".join(c for c in text if c.isprintable())
    return '"' + printable.replace('"', '"\\""') + '"'


def series_sheet(name: str, frame: pd.DataFrame, per_year: int) -> Sheet:
    """The per-period series with a leading ``year`` column (end of the period, in years)."""
    data = frame.copy()
    data.insert(1 if "period" in data.columns else 0, "year", (data["period"] + 1) / per_year)
    kinds = {"period": "int", "year": "years", "seed": "int"}
    for column in data.columns:
        base = column.split("__")[0]
        if base in MONEY_SERIES:
            kinds[column] = "money"
        elif base in SHARE_SERIES:
            kinds[column] = "pct"
        elif base in COUNT_SERIES:
            kinds[column] = "int"
        else:
            kinds.setdefault(column, "index")
    return Sheet(name, data, kinds)


def write_workbook(
    path: Path,
    *,
    title: str,
    currency: str,
    summary_rows: Sequence[tuple[str, Any, str]],
    sheets: Sequence[Sheet] = (),
) -> None:
    """Write the workbook: a Summary sheet of (label, value, kind) rows, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    book.properties.creator = "procsim"
    book.properties.created = book.properties.modified = FIXED_TIME
    summary = book.active
    summary.title = "Summary"
    _text(summary.cell(1, 1), title).font = Font(bold=True, size=14)
    row = 3
    for label, value, kind in summary_rows:
        if kind == "heading":
            _text(summary.cell(row + 1, 1), label).font = Font(bold=True, size=12)
            row += 2
            continue
        _text(summary.cell(row, 1), label)
        cell = summary.cell(row, 2)
        _put(cell, value)
        if kind == "sentence":
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.font = Font(bold=True)
            summary.row_dimensions[row].height = 60
        fmt = number_format(kind, currency)
        if fmt and isinstance(value, int | float):
            cell.number_format = fmt
        row += 1
    summary.column_dimensions["A"].width = 44
    summary.column_dimensions["B"].width = 90
    fill = PatternFill("solid", fgColor="FFF3C4")
    for sheet in sheets:
        ws = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "-", sheet.name)[:31])
        columns = list(sheet.frame.columns)
        for j, column in enumerate(columns, start=1):
            _text(ws.cell(1, j), sheet.headers.get(column, column)).font = Font(bold=True)
            ws.column_dimensions[ws.cell(1, j).column_letter].width = max(10, min(40, len(str(column)) + 4))
        fmts = [number_format(sheet.kinds.get(c, ""), currency) for c in columns]
        for i, values in enumerate(sheet.frame.itertuples(index=False), start=2):
            marked = bool(sheet.highlight[i - 2]) if len(sheet.highlight) else False
            row_fmt = number_format(sheet.row_kinds[i - 2], currency) if len(sheet.row_kinds) else None
            for j, value in enumerate(values, start=1):
                cell = ws.cell(i, j)
                _put(cell, value)
                if row_fmt and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = row_fmt
                elif fmts[j - 1] and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = fmts[j - 1]
                if marked:
                    cell.fill = fill
        ws.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_reproducible(buffer.getvalue()))


def _text(cell: Any, value: str) -> Any:
    """Put text in a cell as text: never read as a formula, whatever it starts with."""
    cell.value = str(value)
    cell.data_type = "s"
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

KIND_OF = {"index": "index", "pct": "pct", "money": "money", "rate": "number", "period": "number", "count": "int"}
ACCOUNT_HEADERS = {
    "account": "account",
    "segment": "segment",
    "customers": "customers",
    "discount": "discount at the end",
    "volume": "volume (list-price spend)",
    "contribution": "profit contribution",
    "customer_value": "value to the customer",
    "supplier_value": "value to the supplier",
    "switched": "switched (runs or customers)",
    "left": "left the market (runs or customers)",
}
ACCOUNT_KINDS = {
    "customers": "int",
    "discount": "pct",
    "volume": "money",
    "contribution": "money",
    "customer_value": "money",
    "supplier_value": "money",
    "switched": "number",
    "left": "number",
    "named": "text",
}


def _key_rows(metrics: dict[str, Any]) -> list[tuple[str, Any, str]]:

    return [(label, metrics.get(key), KIND_OF[kind]) for key, label, kind in KEY_METRICS]


def _key_sheet(metrics: dict[str, Any], columns: Sequence[str]) -> Sheet:
    """Every metric of summary.json with its label, one column per statistic or side."""

    labels = {key: label for key, label, _ in KEY_METRICS}
    kinds = {key: KIND_OF[kind] for key, _, kind in KEY_METRICS}
    rows = [
        {"metric": key, "label": labels.get(key, key), **{c: values.get(c) for c in columns}}
        for key, values in metrics.items()
    ]
    frame = pd.DataFrame(rows, columns=["metric", "label", *columns])
    return Sheet("Key figures", frame, row_kinds=[kinds.get(r["metric"], "number") for r in rows])


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
    sheets = [series_sheet("Series", result.timeseries, s["periods_per_year"])]
    if accounts is not None:
        sheets.append(Sheet("Accounts", accounts, ACCOUNT_KINDS, headers=ACCOUNT_HEADERS))
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
        series_sheet("Series (median)", median, s["periods_per_year"]),
        Sheet("Accounts (mean)", account_table(sc, result.runs), ACCOUNT_KINDS, headers=ACCOUNT_HEADERS),
    ]
    write_workbook(
        path,
        title=f"procsim: {s['scenario']} x{s['replicates']}",
        currency=s["currency"],
        summary_rows=rows,
        sheets=sheets,
    )
