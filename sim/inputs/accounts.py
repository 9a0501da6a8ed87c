"""Named accounts: read a team's account list (CSV or XLSX), check it, and place it in the market.

A strategy team knows its accounts: name, segment, annual revenue, current discount and
months to the next renewal, and which accounts compare prices. Each named account takes
the place of one randomly drawn customer of its segment (customer group) and is a
customer of *your company*, the scenario's first supplier; the rest of the market stays
synthetic. Every bad cell is reported with its file, row and column (exit code 2).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sim.errors import InputError
from sim.inputs.schema import Account
from sim.inputs.validation import _translate
from sim.inputs.values import _suggest, amount

if TYPE_CHECKING:
    from sim.inputs.schema import Account, Scenario

COLUMNS = ("name", "segment", "annual_revenue", "current_discount", "months_to_renewal", "peers")
REQUIRED = COLUMNS[:5]
MAX_BYTES = 10_000_000  # an account list, not a data warehouse
MAX_UNPACKED = 100_000_000  # XLSX members, unpacked
MAX_ROWS = 100_000


# --------------------------------------------------------------------------- single values


def _peers(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value).split(";") if p.strip()]


# --------------------------------------------------------------------------- rows to accounts


def _account(row: Mapping[str, Any], where: str, column_of: Mapping[str, str], source: str) -> Account:
    """Validate one row; an error names ``where`` (row or list item) and the column."""

    data = {k: v for k, v in row.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    for key in REQUIRED:
        if key not in data and key in ("name", "segment", "annual_revenue"):
            raise InputError("this cell is empty; every account needs it", source=source, field=where + column_of[key])
    if "annual_revenue" in data:
        data["annual_revenue"] = amount(data["annual_revenue"])
    data["peers"] = _peers(data.get("peers"))
    data["origin"] = f"{source}: {where.rstrip(', .')}" if where else source
    try:
        return Account.model_validate(data)
    except ValidationError as exc:
        field, msg = _translate(exc, Account, "")[0]
        key = field.split(".")[0]
        raise InputError(msg, source=source, field=where + column_of.get(key, key)) from None


def parse_accounts(items: Any, source: str) -> list[Account]:
    """Accounts given in a scenario file (``accounts:`` list of mappings)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(
            "expected a list of accounts (name, segment, annual_revenue, ...)", source=source, field="accounts"
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError("each account must be a mapping of fields", source=source, field=f"accounts[{i}]")
        out.append(_account(item, f"accounts[{i}].", {k: k for k in (*COLUMNS, *item)}, source))
    _unique(out, source)
    return out


def read_accounts(path: str | Path) -> list[Account]:
    """Accounts from a CSV (UTF-8, comma or semicolon separated) or an XLSX file, one row per account."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the accounts file: {exc.strerror}", source=source) from None
    if not path.is_file():
        raise InputError("is not a file (give the path of a .csv or .xlsx file)", source=source)
    if size > MAX_BYTES:
        raise InputError(
            f"the accounts file is {size / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB", source=source
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _xlsx_rows(path, source)
    elif suffix in (".csv", ".txt"):
        header, rows = _csv_rows(path, source)
    else:
        raise InputError("an accounts file must be .csv or .xlsx", source=source)
    columns = _columns(header, source)
    accounts = []
    for number, cells in rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank line
        if len(accounts) >= MAX_ROWS:
            raise InputError(
                f"more than {MAX_ROWS:,} accounts; name your key accounts, the rest is drawn", source=source
            )
        row = {key: (cells[i] if i < len(cells) else None) for i, key in columns.items()}
        extra = [c for i, c in enumerate(cells) if i not in columns and c not in (None, "")]
        if extra and len(cells) > len(header):
            raise InputError(f"{len(cells)} cells but {len(header)} column names", source=source, field=f"row {number}")
        labels = {key: f"column {_letter(i)} ({key})" for i, key in columns.items()}
        accounts.append(_account(row, f"row {number}, ", labels, source))
    if not accounts:
        raise InputError("the accounts file has no accounts below its header row", source=source)
    _unique(accounts, source)
    return accounts


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _columns(header: list[Any], source: str) -> dict[int, str]:
    """Column index -> field name, from a header row (case, spaces and hyphens do not matter)."""

    found: dict[int, str] = {}
    for i, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        key = re.sub(r"[\s\-]+", "_", str(cell).strip().lower())
        if key not in COLUMNS:
            raise InputError(
                f"unknown column {str(cell)!r}{_suggest(key, COLUMNS)}; the columns are {', '.join(COLUMNS)}",
                source=source,
                field=f"row 1, column {_letter(i)}",
            )
        if key in found.values():
            raise InputError(f"column {key!r} appears twice", source=source, field=f"row 1, column {_letter(i)}")
        found[i] = key
    missing = [k for k in REQUIRED if k not in found.values()]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} in the header row (`procsim accounts template` shows them)",
            source=source,
            field="row 1",
        )
    return found


def _csv_rows(path: Path, source: str) -> tuple[list[Any], Iterable[tuple[int, list[Any]]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the accounts file: {exc.strerror}", source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); in Excel save as 'CSV UTF-8'",
            source=source,
        ) from None
    if "\x00" in text:
        raise InputError("this is not a text file (it holds NUL bytes); save the sheet as CSV or XLSX", source=source)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV: {exc}", source=source) from None
    if not rows:
        raise InputError("the accounts file is empty (it needs a header row)", source=source)
    return rows[0], ((n, row) for n, row in enumerate(rows[1:], start=2))


def _xlsx_rows(path: Path, source: str) -> tuple[list[Any], Iterable[tuple[int, list[Any]]]]:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InputError("not a readable .xlsx workbook", source=source) from None
    if unpacked > MAX_UNPACKED:
        raise InputError(f"the workbook unpacks to {unpacked / 1e6:.0f} MB; the limit is 100 MB", source=source)
    try:
        values = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__})", source=source) from None
    name = next((n for n in values.sheetnames if n.strip().lower() == "accounts"), values.sheetnames[0])
    rows = [list(r) for r in values[name].iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    kinds = [[c.data_type for c in r] for r in formulas[name].iter_rows(max_row=MAX_ROWS + 2)]
    values.close()
    formulas.close()
    if not rows:
        raise InputError(f"sheet {name!r} is empty (it needs a header row)", source=source)
    for n, (row, kind) in enumerate(zip(rows, kinds, strict=False), start=1):
        for i, (value, k) in enumerate(zip(row, kind, strict=False)):
            if k == "f" and value is None:
                raise InputError(
                    "a formula without a saved value; open and save the file in Excel, or paste values",
                    source=source,
                    field=f"row {n}, column {_letter(i)}",
                )
            if hasattr(value, "year"):
                raise InputError(
                    "a date where a name or number belongs", source=source, field=f"row {n}, column {_letter(i)}"
                )
    return rows[0], ((n, row) for n, row in enumerate(rows[1:], start=2))


def _unique(accounts: list[Account], source: str) -> None:
    seen: dict[str, Account] = {}
    for account in accounts:
        key = account.name.casefold()
        if key in seen:
            first = (seen[key].origin or "").rpartition(": ")[2] or "above"
            raise _fail(account, "name", f"account {account.name!r} is named twice (also {first})", source)
        seen[key] = account


def _where(account: Account, column: str) -> str:
    origin = account.origin or ""
    _, _, row = origin.rpartition(": ")
    if row.startswith("row "):
        return f"{row}, column {column}"
    return f"{row}.{column}" if row else column


def _fail(account: Account, column: str, message: str, scenario_source: str) -> InputError:
    origin = account.origin or scenario_source
    return InputError(message, source=origin.rpartition(": ")[0] or origin, field=_where(account, column))


# --------------------------------------------------------------------------- the scenario


def resolve(scenario: Scenario) -> None:
    """Check the accounts against the scenario (segments, peers, renewal) and make room for them.

    A segment gets at least as many customers as it has named accounts.
    """

    source = scenario.source or "<scenario>"
    groups = {g.name: g for g in scenario.customers}
    names = {a.name for a in scenario.accounts}
    months = scenario.market.contract_cycle * 12.0 / scenario.periods_per_year
    per_group: dict[str, int] = {}
    for account in scenario.accounts:
        if account.segment not in groups:
            raise _fail(
                account,
                "segment",
                f"unknown segment {account.segment!r}{_suggest(account.segment, groups)}; this scenario's customer "
                f"groups are: {', '.join(groups)}",
                source,
            )
        if account.months_to_renewal >= months:
            raise _fail(
                account,
                "months_to_renewal",
                f"must be below the contract length of {months:g} months, got {account.months_to_renewal:g} "
                "(market.contract_cycle sets the length)",
                source,
            )
        for peer in account.peers:
            if peer not in names:
                raise _fail(account, "peers", f"no account named {peer!r}{_suggest(peer, names)} in the list", source)
            if peer == account.name:
                raise _fail(account, "peers", "an account cannot be its own peer", source)
        per_group[account.segment] = per_group.get(account.segment, 0) + 1
    for name, count in per_group.items():
        groups[name].count = max(groups[name].count, count)


def template_csv(scenario: Scenario) -> str:
    """An example account list with every column, in the scenario's segments and currency."""
    segments = [g.name for g in scenario.customers]
    seg = [segments[i % len(segments)] for i in range(5)]
    months = scenario.market.contract_cycle * 12 // scenario.periods_per_year
    size = max(g.annual_revenue for g in scenario.customers)
    rows = [
        ("ACME Industries", seg[0], 12 * size, "4%", 2 % months, "Globex; Initech"),
        ("Globex", seg[1], 8 * size, "2%", 5 % months, "ACME Industries"),
        ("Initech", seg[2], 5 * size, "0%", 9 % months, "ACME Industries; Umbrella"),
        ("Umbrella", seg[3], 3 * size, "3%", 0, ""),
        ("Stark Components", seg[4], 2 * size, "1%", 11 % months, ""),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for name, segment, revenue, discount, month, peers in rows:
        writer.writerow([name, segment, f"{revenue:.0f}", discount, month, peers])
    return buffer.getvalue()
