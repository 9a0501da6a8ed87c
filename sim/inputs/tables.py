"""A table people made, read within bounds: a CSV file or one worksheet of an XLSX workbook.

An account list comes from Excel, a CRM export or a colleague, so it is read as hostile:
its size is checked before it is opened, an XLSX is streamed (openpyxl's read-only mode)
and its declared ``<dimension>`` ignored (a 40 KB file may claim 16,384 columns), and the
reading stops at a limit with a message that says so; no row is ever dropped without a
word. Chart sheets and hidden sheets are never read unless named. Problems of single
cells (a date, a formula without a saved value, an oversized text) are collected, so the
caller reports every bad cell of the file at once; a file that cannot be read at all
raises :class:`~sim.errors.InputError` with its line.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError, clean, excerpt

MAX_BYTES = 10_000_000  # an account list, not a data warehouse
MAX_UNPACKED = 100_000_000  # XLSX members, unpacked
MAX_ROWS = 100_000  # rows with something in them, below the header
MAX_COLUMNS = 50  # columns of a sheet or CSV that may hold anything
MAX_CELLS = 5_000_000  # cells an XLSX sheet may make us look at (formatted empty ones included)
MAX_FIELD = 10_000  # characters in one cell


class Bad:
    """A cell that could not be read (its problem is already recorded)."""

    def __repr__(self) -> str:
        return "<unreadable cell>"


BAD = Bad()


@dataclass
class Table:
    """A header row and the rows below it (with their row numbers), and the cells that could not be read."""

    header: list[Any]
    rows: list[tuple[int, list[Any]]]
    sheet: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (row and column, message)


def letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def read_table(path: Path, source: str, sheet: str | None = None, what: str = "accounts file") -> Table:
    """The table in a .csv or .xlsx file (``what`` it is, for messages); ``sheet`` names a workbook's worksheet."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", source=source) from None
    if not path.is_file():
        raise InputError("is not a file (give the path of a .csv or .xlsx file)", source=source)
    if size > MAX_BYTES:
        raise InputError(f"the {what} is {size / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB", source=source)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path, source, sheet)
    if suffix in (".csv", ".txt"):
        if sheet is not None:
            raise InputError("--sheet names a worksheet of an .xlsx workbook; this is a CSV file", source=source)
        return _csv(path, source, what)
    raise InputError(f"an {what} must be .csv or .xlsx", source=source)


def _limits(table: Table, number: int, cells: list[Any], source: str) -> list[Any]:
    """Check one row against the limits (stop and say so); long cells are recorded as problems."""
    if any(c not in (None, "") for c in cells[MAX_COLUMNS:]):
        column = next(i for i, c in enumerate(cells) if i >= MAX_COLUMNS and c not in (None, ""))
        raise InputError(
            f"a value in column {letter(column)}; a list has at most {MAX_COLUMNS} columns (reading stopped there)",
            source=source,
            field=f"row {number}",
        )
    cells = list(cells[:MAX_COLUMNS])
    for i, value in enumerate(cells):
        if isinstance(value, str) and len(value) > MAX_FIELD:
            table.problems.append(
                (f"row {number}, column {letter(i)}", f"a cell of {len(value):,} characters; at most {MAX_FIELD:,}")
            )
            cells[i] = BAD
    if number > 1 and any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in cells):
        if len(table.rows) >= MAX_ROWS:
            raise InputError(
                f"more than {MAX_ROWS:,} rows below the header (reading stopped at row {number:,}); name your key "
                "accounts, the rest of the market is drawn",
                source=source,
            )
        table.rows.append((number, cells))
    return cells


# --------------------------------------------------------------------------- CSV


def csv_text(raw: bytes, source: str) -> tuple[str, str]:
    """The text of a CSV file as a spreadsheet saves it (UTF-8, with or without its mark) and its delimiter (``;``
    where the first line has more semicolons than commas, as Excel writes in countries with a decimal comma)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text; in Excel save as 'CSV UTF-8'", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); in Excel save as 'CSV UTF-8'",
            source=source,
        ) from None
    if "\x00" in text:
        raise InputError("is not a text file (it holds NUL bytes); save the sheet as CSV or XLSX", source=source)
    first = text.split("\n", 1)[0]
    return text, ";" if first.count(";") > first.count(",") else ","


def _csv(path: Path, source: str, what: str) -> Table:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", source=source) from None
    text, delimiter = csv_text(raw, source)
    table = Table([], [])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number, started = 0, 1
    try:
        for cells in reader:
            number += 1
            if number == 1:
                table.header = _limits(table, 1, cells, source)
            else:
                _limits(table, number, cells, source)
            started = reader.line_num + 1
    except csv.Error as exc:
        reason = str(exc)
        if "larger than field limit" in reason:
            reason = f"a cell longer than {csv.field_size_limit():,} characters"
        elif reader.line_num > started or "end of data" in reason:
            reason = f'a quote (") opened on line {started} is never closed'
        raise InputError(f"cannot read the CSV: {reason}", source=source, field=f"line {started}") from None
    if number == 0:
        raise InputError(f"the {what} is empty (it needs a header row)", source=source)
    return table


# --------------------------------------------------------------------------- XLSX


def check_unpacked(path: Path, source: str, limit: int) -> None:
    """Refuse a file that is no zip archive, or whose members unpack to more than ``limit`` bytes (an XLSX is one:
    a small file can declare gigabytes), before any spreadsheet library opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InputError("not a readable .xlsx workbook", source=source) from None
    if unpacked > limit:
        raise InputError(
            f"the workbook unpacks to {unpacked / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB", source=source
        )


def _xlsx(path: Path, source: str, sheet: str | None) -> Table:
    import openpyxl

    check_unpacked(path, source, MAX_UNPACKED)
    books = []
    try:
        books.append(openpyxl.load_workbook(path, read_only=True, data_only=True))
        if _has_formulas(path):  # a second pass tells a formula without a saved value from an empty cell
            books.append(openpyxl.load_workbook(path, read_only=True, data_only=False))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        for book in books:
            book.close()
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__})", source=source) from None
    try:
        name = _choose_sheet(books[0], sheet, source)
        table = Table([], [], sheet=name)
        sheets = [book[name] for book in books]
        _stream(table, sheets[0], sheets[-1] if len(sheets) > 1 else None, source)
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - a sheet openpyxl cannot parse
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__})", source=source) from None
    finally:
        for book in books:
            book.close()
    if not table.header and not table.rows:
        raise InputError(f"sheet {name!r} is empty (it needs a header row)", source=source)
    return table


def _choose_sheet(book: Any, sheet: str | None, source: str) -> str:
    """The worksheet to read: the one named, else a visible one named 'accounts', else the active or first visible."""
    charts = {c.title for c in book.chartsheets}
    if sheet is not None:
        if sheet in charts:
            raise InputError(f"sheet {excerpt(sheet)} is a chart, not a table", source=source, field="--sheet")
        names = [w.title for w in book.worksheets]
        if sheet not in names:
            raise InputError(
                f"no worksheet named {excerpt(sheet)}; the workbook has: {clean(', '.join(names), 200)}",
                source=source,
                field="--sheet",
            )
        return sheet
    visible = [w for w in book.worksheets if w.sheet_state == "visible"]
    if not visible:
        raise InputError("the workbook has no visible worksheet; name one with --sheet", source=source)
    named = [w for w in visible if w.title.strip().lower() == "accounts"]
    if named:
        return named[0].title
    return (book.active if book.active in visible else visible[0]).title


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (an ``<f>`` element), scanned without parsing."""
    pattern = re.compile(rb"<(?:\w+:)?f[\s>/]")
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(info) as member:
                tail = b""
                while block := member.read(1 << 20):
                    if pattern.search(tail + block):
                        return True
                    tail = block[-16:]
    return False


def _stream(table: Table, values: Any, formulas: Any | None, source: str) -> None:
    """Walk the sheet row by row (its declared size ignored), recording what cannot be read."""
    values.reset_dimensions()  # the file's own <dimension> may claim millions of cells: read what is there
    readers = [values.iter_rows(values_only=True)]
    if formulas is not None:
        formulas.reset_dimensions()
        readers.append(formulas.iter_rows(values_only=True))
    try:
        _walk(table, readers[0], readers[1] if len(readers) > 1 else itertools.repeat(()), source)
    finally:
        for reader in readers:
            reader.close()  # each holds an open member of the archive until closed


def _walk(table: Table, values: Iterator[tuple], formulas: Iterator[tuple], source: str) -> None:
    seen = 0
    for number, (row, written) in enumerate(zip(values, formulas, strict=False), start=1):
        seen += max(len(row), 1)
        if seen > MAX_CELLS:
            raise InputError(
                f"the sheet holds more than {MAX_CELLS:,} cells, formatted empty ones included (reading stopped at "
                f"row {number:,}); copy the accounts into a new sheet or a CSV file",
                source=source,
            )
        cells = list(row)
        for i, value in enumerate(cells[:MAX_COLUMNS]):
            if value is None and i < len(written) and isinstance(written[i], str) and written[i].startswith("="):
                table.problems.append(
                    (
                        f"row {number}, column {letter(i)}",
                        "a formula without a saved value; open and save the file in Excel, or paste values",
                    )
                )
                cells[i] = BAD
            elif hasattr(value, "year"):
                table.problems.append((f"row {number}, column {letter(i)}", "a date where a name or number belongs"))
                cells[i] = BAD
        if number == 1:
            table.header = _limits(table, 1, cells, source)
        else:
            _limits(table, number, cells, source)
