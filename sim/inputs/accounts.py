"""Named accounts: read a team's account list (CSV or XLSX), check it, and place it in the market.

A strategy team knows its accounts: name, segment, annual revenue, current discount,
months to the next renewal, the contract's length, and which accounts compare prices.
Each named account takes the place of one randomly drawn customer of its segment
(customer group) and is a customer of *your company*, the scenario's first supplier; the
rest of the market stays synthetic. A segment the scenario does not define is made from
its customer group. Numbers are read as people paste them (``1.250.000``, ``12,5%``;
:mod:`sim.inputs.values`), and every bad cell of the file is reported at once, each with
its row and column, in one message (exit code 2).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sim.errors import InputError, excerpt
from sim.inputs.schema import Account
from sim.inputs.tables import BAD, letter, read_table
from sim.inputs.validation import _translate
from sim.inputs.values import _suggest, check_name, clean_name, name_text, number_text

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario

COLUMNS = (
    "name",
    "segment",
    "annual_revenue",
    "current_discount",
    "months_to_renewal",
    "peers",
    "contract_months",  # added last, so files and code that know the first six columns keep working
)
REQUIRED = COLUMNS[:5]  # columns the header row must have
NEEDED = ("name", "segment", "annual_revenue")  # cells every account must fill
MAX_MONTHS_TO_RENEWAL = 60.0  # without contract_months: the current contract runs at most five more years
MAX_CONTRACT_MONTHS = 120.0
LISTED = 12  # problems spelled out in the message; the rest are counted
# What each numeric column expects, with an example (said with every bad cell).
EXPECTED = {
    "annual_revenue": ("an amount such as 12500000, 12.500.000, 12.5M or 800k", {"money": True}),
    "current_discount": ("a percentage such as 4%, 4,5% or 0.04", {"percent": True}),
    "months_to_renewal": ("a number of months such as 6", {}),
    "contract_months": ("the contract's length in months such as 24 (blank: the market's)", {}),
}


# --------------------------------------------------------------------------- every problem at once


@dataclass
class Problems:
    """Problems found in account lists, reported together as one message (exit code 2)."""

    items: list[tuple[str | None, str | None, str]] = field(default_factory=list)  # source, where, message
    names: set[str] = field(default_factory=set)  # every account's name, bad rows' too (peers may name them)
    partial: list[Account] = field(default_factory=list)  # what the bad rows say: checked, never placed

    def add(self, source: str | None, where: str | None, message: str) -> None:
        self.items.append((source, where, message))

    def error(self) -> InputError | None:
        """One error saying every problem (a short list: the first few, and how many more), or None."""
        if not self.items:
            return None
        items = sorted(self.items, key=_order)
        if len(items) == 1:
            source, where, message = items[0]
            return InputError(message, source=source, field=where)
        sources = {source for source, _, _ in items}
        single = len(sources) == 1
        shown = [f"{'' if single or not s else s + ': '}{w + ': ' if w else ''}{m}" for s, w, m in items[:LISTED]]
        more = f"; and {len(items) - LISTED} more" if len(items) > LISTED else ""
        return InputError(
            f"{len(items)} problems: " + "; ".join(shown) + more,
            source=next(iter(sources)) if single else None,
        )

    def check(self) -> None:
        error = self.error()
        if error is not None:
            raise error


def _order(item: tuple[str | None, str | None, str]) -> tuple[str, int, int, str]:
    """File, then row, then column: the order a person fixes them in."""
    source, where, _ = item
    row = re.match(r"(?:row |accounts\[)(\d+)", where or "")
    column = re.search(r"column ([A-Z]+)", where or "")
    col = 0
    for char in column[1] if column else "":
        col = col * 26 + ord(char) - 64
    return source or "", int(row[1]) if row else -1, col, where or ""


# --------------------------------------------------------------------------- rows to accounts


def _peers(value: Any) -> list[str]:
    if value is None:
        return []
    parts = value if isinstance(value, list) else str(name_text(value)).split(";")
    return [clean_name(str(name_text(p))) for p in parts if str(name_text(p)).strip()]


def _account(
    row: Mapping[str, Any], label: Callable[[str], str], origin: str, source: str, problems: Problems
) -> Account | None:
    """One account from its cells; each bad cell is recorded (with ``label(column)``) and None returned.

    Every cell is checked, whatever the others hold; a row with bad cells still goes to
    ``problems.partial`` (its good cells, placeholders for the bad ones), so its segment,
    contract and peers are checked with everyone else's.
    """
    data: dict[str, Any] = {}
    failed = {key for key, value in row.items() if value is BAD}  # recorded where it was read

    def refuse(key: str, message: str) -> None:
        problems.add(source, label(key), message)
        failed.add(key)
        data.pop(key, None)

    for key, value in row.items():
        if value is not BAD and value is not None and not (isinstance(value, str) and not value.strip()):
            data[key] = value
    for key in ("name", "segment"):
        if key in data:
            text = name_text(data[key])
            if not isinstance(text, str):
                refuse(key, f"expected a name (text), got {excerpt(text)}")
                continue
            try:
                data[key] = check_name(text)
            except ValueError as exc:
                refuse(key, str(exc))
        elif key not in failed:
            refuse(key, "this cell is empty; every account needs it")
    if isinstance(data.get("name"), str):
        problems.names.add(data["name"])
    for key, (expected, how) in EXPECTED.items():
        if key in data:
            try:
                data[key] = number_text(data[key], **how)
            except ValueError as exc:
                reason = str(exc)
                got = excerpt(data[key])
                detail = "" if reason == "expected a number" else f" ({reason})"
                refuse(key, reason if "ambiguous" in reason else f"expected {expected}, got {got}{detail}")
        elif key in NEEDED and key not in failed:
            refuse(key, "this cell is empty; every account needs it")
    if "peers" in data:
        try:
            data["peers"] = [check_name(p) for p in _peers(data["peers"])]
        except ValueError as exc:
            refuse("peers", f"a peer's name {exc}")
    data["origin"] = origin
    placeholders = {k: v for k, v in (("name", "unnamed account"), ("annual_revenue", 1.0)) if k in failed}
    partial = {k: v for k, v in data.items() if k not in failed} | placeholders
    try:
        account = Account.model_validate(partial)
    except ValidationError as exc:
        for where, message in _translate(exc, Account, ""):  # ranges of the cells that did parse
            key = where.split(".")[0]
            if key in placeholders or key in failed:
                continue
            if key in COLUMNS:
                refuse(key, message)
            else:
                problems.add(source, where, message)
        partial = {k: v for k, v in partial.items() if k not in failed}
        try:
            account = Account.model_validate(partial | placeholders)
        except ValidationError:
            return None  # nothing more to check on this row
    if failed:
        problems.partial.append(account)  # what the row says is still checked against the scenario
        return None
    return account


def parse_accounts(items: Any, source: str, problems: Problems | None = None) -> list[Account]:
    """Accounts given in a scenario file (``accounts:`` list of mappings)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(
            "expected a list of accounts (name, segment, annual_revenue, ...)", source=source, field="accounts"
        )
    found = problems if problems is not None else Problems()
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            found.add(source, f"accounts[{i}]", "each account must be a mapping of fields")
            continue
        unknown = [k for k in item if k not in COLUMNS]
        for key in unknown:
            found.add(source, f"accounts[{i}].{key}", f"unknown field{_suggest(key, COLUMNS)}")
        if unknown:
            continue
        account = _account(item, lambda key, i=i: f"accounts[{i}].{key}", f"{source}: accounts[{i}]", source, found)
        if account is not None:
            out.append(account)
    if problems is None:
        _unique(out, source, found)
        found.check()
    return out


def read_accounts(path: str | Path, sheet: str | None = None, problems: Problems | None = None) -> list[Account]:
    """Accounts from a CSV (UTF-8, comma or semicolon separated) or an XLSX file, one row per account.

    Every bad cell is reported at once; with ``problems`` they are added to it (and the good
    accounts returned) so the caller can add the scenario's own checks before reporting.
    """
    path = Path(path)
    source = str(path)
    table = read_table(path, source, sheet)
    found = problems if problems is not None else Problems()
    for where, message in table.problems:
        found.add(source, where, message)
    if any(c is BAD for c in table.header):
        found.check()
    columns = _columns(table.header, source)
    labels = {key: f"column {letter(i)} ({key})" for i, key in columns.items()}
    accounts = []
    for number, cells in table.rows:
        if len(cells) > len(table.header) and any(c not in (None, "") for i, c in enumerate(cells) if i not in columns):
            found.add(source, f"row {number}", f"{len(cells)} cells but {len(table.header)} column names")
            continue
        row = {key: (cells[i] if i < len(cells) else None) for i, key in columns.items()}
        label = lambda key, n=number: f"row {n}, " + labels.get(key, f"column {key}")  # noqa: E731
        account = _account(row, label, f"{source}: row {number}", source, found)
        if account is not None:
            accounts.append(account)
    if not table.rows and not found.items:
        raise InputError("the accounts file has no accounts below its header row", source=source)
    if problems is None:
        _unique(accounts, source, found)
        found.check()
    return accounts


def _columns(header: list[Any], source: str) -> dict[int, str]:
    """Column index -> field name, from a header row (case, spaces and hyphens do not matter)."""

    found: dict[int, str] = {}
    for i, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        key = re.sub(r"[\s\-]+", "_", str(cell).strip().lower())
        if key not in COLUMNS:
            raise InputError(
                f"unknown column {excerpt(str(cell))}{_suggest(key, COLUMNS)}; the columns are {', '.join(COLUMNS)}",
                source=source,
                field=f"row 1, column {letter(i)}",
            )
        if key in found.values():
            raise InputError(f"column {key!r} appears twice", source=source, field=f"row 1, column {letter(i)}")
        found[i] = key
    missing = [k for k in REQUIRED if k not in found.values()]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} in the header row (`procsim accounts template` shows them)",
            source=source,
            field="row 1",
        )
    return found


def _unique(accounts: list[Account], source: str, problems: Problems | None = None) -> None:
    found = problems if problems is not None else Problems()
    seen: dict[str, Account] = {}
    for account in accounts:
        key = account.name.casefold()
        if key in seen:
            first = (seen[key].origin or "").rpartition(": ")[2] or "above"
            found.add(*_place(account, "name", source), f"account {account.name!r} is named twice (also {first})")
        else:
            seen[key] = account
    if problems is None:
        found.check()


def _place(account: Account, column: str, scenario_source: str) -> tuple[str, str]:
    """(file, row and column) of an account's cell, for a message."""
    origin = account.origin or scenario_source
    source, found, row = origin.rpartition(": ")
    if not found:
        return origin, column
    return source, f"{row}, column {column}" if row.startswith("row ") else f"{row}.{column}"


# --------------------------------------------------------------------------- the scenario


def resolve(scenario: Scenario, problems: Problems | None = None) -> None:
    """Check the accounts against the scenario (segments, peers, renewals) and make room for them.

    A segment the scenario does not define is created from its customer group (a copy,
    with the segment's named accounts as its customers, taken from that group's count) when
    the scenario has one customer group; with several, the segment must be one of them. A
    segment gets at least as many customers as it has named accounts.
    """
    found = problems if problems is not None else Problems()
    source = scenario.source or "<scenario>"
    groups = {g.name: g for g in scenario.customers}
    names = {a.name for a in scenario.accounts} | found.names
    months = scenario.market.contract_cycle * 12.0 / scenario.periods_per_year
    new = [s for s in dict.fromkeys(a.segment for a in scenario.accounts) if s not in groups]
    makes_segments = len(groups) == 1
    if new and makes_segments:
        _new_segments(scenario, new)
        groups = {g.name: g for g in scenario.customers}
    per_group: dict[str, int] = {}
    placed = len(scenario.accounts)  # the rest (rows with bad cells) are only checked
    for n, account in enumerate([*scenario.accounts, *found.partial]):
        if account.segment not in groups and not (makes_segments and n >= placed):
            found.add(
                *_place(account, "segment", source),
                f"unknown segment {account.segment!r}{_suggest(account.segment, groups)}; this scenario's customer "
                f"groups are: {', '.join(groups)} (a new one goes under customers.groups in a scenario file)",
            )
            continue
        _check_contract(account, months, source, found)
        for peer in account.peers:
            if peer == account.name:
                found.add(*_place(account, "peers", source), "an account cannot be its own peer")
            elif peer not in names:
                found.add(
                    *_place(account, "peers", source), f"no account named {peer!r}{_suggest(peer, names)} in the list"
                )
        if n < placed:
            per_group[account.segment] = per_group.get(account.segment, 0) + 1
    if problems is None:
        found.check()
    for name, count in per_group.items():
        groups[name].count = max(groups[name].count, count)


def _new_segments(scenario: Scenario, segments: list[str]) -> None:
    """Customer groups for segments of one's own: copies of the scenario's one group, holding their named accounts."""
    template = scenario.customers[0]
    counts = {s: sum(1 for a in scenario.accounts if a.segment == s) for s in segments}
    own = sum(1 for a in scenario.accounts if a.segment == template.name)
    for segment, count in counts.items():
        scenario.customers.append(template.model_copy(deep=True, update={"name": segment, "count": count}))
    template.count = max(template.count - sum(counts.values()), own, 1)  # the market keeps its size


def _check_contract(account: Account, months: float, source: str, found: Problems) -> None:
    """months_to_renewal and contract_months against the market's contract length."""
    length = account.contract_months
    if length is not None:
        multiple = length / months
        if abs(multiple - round(multiple)) > 1e-9 or round(multiple) < 1:
            found.add(
                *_place(account, "contract_months", source),
                f"must be a whole number of the market's {months:g}-month contracts ({months:g}, {2 * months:g}, "
                f"{3 * months:g}...), got {length:g} (market.contract_cycle sets the market's length)",
            )
        elif account.months_to_renewal >= length:
            found.add(
                *_place(account, "months_to_renewal", source),
                f"must be below the contract length of {length:g} months (contract_months), "
                f"got {account.months_to_renewal:g}",
            )
    elif account.months_to_renewal > MAX_MONTHS_TO_RENEWAL:
        found.add(
            *_place(account, "months_to_renewal", source),
            f"must be at most {MAX_MONTHS_TO_RENEWAL:g} months, got {account.months_to_renewal:g} (for a longer "
            "contract give its length in the contract_months column)",
        )


def template_csv(scenario: Scenario, text: Callable[[Any], Any] = lambda value: value) -> str:
    """An example account list with every column, in the scenario's segments and currency.

    ``text`` is applied to every cell (the command line passes its spreadsheet-safe text).
    """
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
        writer.writerow([text(v) for v in (name, segment, f"{revenue:.0f}", discount, month, peers, months)])
    return buffer.getvalue()
