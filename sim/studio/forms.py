"""The studio's form: a scenario's business numbers as fields, and a question, checked as the command line checks them.

A field shows the scenario's current value; what the analyst changes becomes a ``--set``
(``you.`` fields change the first supplier only, see :mod:`sim.whatif.you`) applied to
both sides of the what-if. The question becomes the ``--grant`` text the command line
reads, so the studio and ``procsim whatif`` ask exactly the same thing. Every problem is
an :class:`InputError` whose ``field`` names the form field it belongs to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.engine.schedule import Schedule
from sim.engine.strategies import SUPPLIER_STRATEGIES
from sim.errors import InputError, excerpt
from sim.inputs.grants import GrantQuestion, parse_question
from sim.inputs.schema import Scenario

MAX_REPLICATES = 100
MAX_YEARS = 30
KINDS = ("level", "step", "curve", "find")


@dataclass(frozen=True)
class Field:
    """One business number: its ``--set`` path, label and kind (``pct``, ``choice`` or ``int``)."""

    path: str
    label: str
    kind: str
    help: str = ""


FIELDS = (
    Field("you.gross_margin", "Your gross margin", "pct", "at list price"),
    Field("you.spend.quality", "Your spend on quality", "pct", "share of revenue"),
    Field("you.spend.innovation", "Your spend on R&D", "pct", "share of revenue"),
    Field("you.spend.support", "Your spend on support", "pct", "share of revenue"),
    Field("you.spend.sales_coverage", "Your spend on sales coverage", "pct", "share of revenue"),
    Field("you.strategy", "Your negotiation strategy", "choice", "the first supplier only"),
    Field(
        "customers.procurement.savings_target",
        "Procurement's savings target",
        "pct",
        "a year, every segment",
    ),
    Field("years", "Horizon", "int", "years"),
)
STRATEGIES = tuple(sorted(name for name in SUPPLIER_STRATEGIES if name != "played"))  # played: the game's


def current(scenario: Scenario, path: str) -> Any:
    """A field's value in ``scenario``: the first supplier's, the first segment's, or the horizon in years."""
    if path == "years":
        return scenario.periods / scenario.periods_per_year
    if path.startswith("you."):
        node: Any = scenario.suppliers[0]
        parts = path.split(".")[1:]
    else:
        node = scenario.customers[0]
        parts = path.split(".")[1:]
    for part in parts:
        node = getattr(node, part)
    return node


def shown(value: Any, kind: str) -> str:
    """A value as the form shows it: ``45`` for 45% (the field's unit says %), a schedule as written."""
    if isinstance(value, Schedule):
        return "{" + ", ".join(f"{p}: {100 * v:g}%" for p, v in value.points) + "}"
    if kind == "pct" and isinstance(value, int | float):
        return f"{100 * value:.4g}"
    if kind == "int" and isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def form_of(scenario: Scenario) -> list[dict[str, Any]]:
    """The form's fields for ``scenario``: path, label, kind, help, the current value as shown, the choices."""
    out = []
    for f in FIELDS:
        entry = {
            "path": f.path,
            "label": f.label,
            "kind": f.kind,
            "help": f.help,
            "value": shown(current(scenario, f.path), f.kind),
        }
        if f.kind == "choice":
            entry["choices"] = list(STRATEGIES)
        out.append(entry)
    return out


def numbers(scenario: Scenario, submitted: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The changed fields as ``--set`` overrides (percentages as shares), and the horizon in years if changed."""
    if not isinstance(submitted, Mapping):
        raise InputError("expected the form's fields", field="numbers")
    known = {f.path: f for f in FIELDS}
    out: dict[str, Any] = {}
    years = None
    for path, raw in submitted.items():
        f = known.get(path)
        if f is None:
            raise InputError("not a field of the form", field=str(path)[:80])
        text = str(raw).strip()
        if text == shown(current(scenario, path), f.kind) or text == "":
            continue
        if f.kind == "choice":
            if text not in STRATEGIES:
                raise InputError(f"choose one of {', '.join(STRATEGIES)}", field=path)
            out[path] = text
        elif f.kind == "int":
            years = _whole(text, path, 1, MAX_YEARS)
        elif text.startswith("{"):
            out[path] = _schedule(text, path)
        else:
            out[path] = _percent(text, path)
    return out, years


def _number(text: str, path: str) -> float:
    try:
        value = float(text.replace(",", ".").removesuffix("%").strip())
    except ValueError:
        raise InputError(f"expected a number, got {excerpt(text)}", field=path) from None
    if not math.isfinite(value):
        raise InputError(f"expected a number, got {excerpt(text)}", field=path)
    return value


def _percent(text: str, path: str) -> float:
    value = _number(text, path)
    if not 0 <= value <= 100:
        raise InputError(f"a percentage between 0 and 100, got {excerpt(text)}", field=path)
    return value / 100.0


def _whole(text: str, path: str, lo: int, hi: int) -> int:
    value = _number(text, path)
    if not value.is_integer() or not lo <= value <= hi:
        raise InputError(f"a whole number from {lo} to {hi}, got {excerpt(text)}", field=path)
    return int(value)


def _schedule(text: str, path: str) -> dict[int, float]:
    """``{0: 8%, 12: 0}`` (periods and percentages), as the form shows a schedule."""
    out = {}
    for item in text.strip().strip("{}").split(","):
        if not item.strip():
            continue
        period, sep, value = item.partition(":")
        if not sep:
            raise InputError(f"a schedule reads {{period: value%, ...}}, got {excerpt(text)}", field=path)
        out[_whole(period.strip(), path, 0, 100_000)] = _percent(value.strip(), path)
    if not out:
        raise InputError(f"a schedule reads {{period: value%, ...}}, got {excerpt(text)}", field=path)
    return out


@dataclass(frozen=True)
class Question:
    """What the analyst asks: the grant (as ``--grant`` text), the search's share, seeds and the NPV's rate."""

    grant: GrantQuestion
    find: float | None
    replicates: int
    rate: float

    @property
    def command(self) -> str:
        """The same question on the command line (after ``procsim whatif SCENARIO``)."""
        parts = [f"--grant {_quoted(self.grant.text)}"]
        if self.find is not None:
            parts.append(f"--find {100 * self.find:g}%")
        parts.append(f"--replicates {self.replicates}")
        parts.append(f"--rate {100 * self.rate:g}%")
        return " ".join(parts)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def question(data: Mapping[str, Any]) -> Question:
    """The question from the form: kind (level, step, curve or find), whom, the numbers, seeds and rate."""
    if not isinstance(data, Mapping):
        raise InputError("expected the question's fields", field="question")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"choose one of {', '.join(KINDS)}", field="kind")
    to = str(data.get("to") or "").strip()
    if not to:
        raise InputError("choose an account (upload your accounts) or a segment", field="to")
    if any(c in to for c in "=@"):
        raise InputError("an account name cannot contain '=' or '@' here", field="to")
    start = str(data.get("start") or "0").strip() or "0"
    if kind == "level":
        text = f"{to}={_number(str(data.get('level', '')), 'level'):g}%"
    elif kind == "step":
        text = f"{to}=+{_number(str(data.get('step', '')), 'step'):g}pp"
    else:
        low, high = _number(str(data.get("low", "0") or "0"), "low"), _number(str(data.get("high", "")), "high")
        by = str(data.get("by") or "").strip()
        text = f"{to}={low:g}%..{high:g}%" + (f"/{_number(by, 'by'):g}pp" if by else "")
    text = f"{text}@{start}"
    grant = parse_question(text)
    find = _percent(str(data.get("keep", "")), "keep") if kind == "find" else None
    if find is not None and find <= 0:
        raise InputError("a share of runs above 0%", field="keep")
    replicates = _whole(str(data.get("replicates", "20")), "replicates", 1, MAX_REPLICATES)
    rate = _percent(str(data.get("rate", "8")), "rate")
    return Question(grant, find, replicates, rate)
