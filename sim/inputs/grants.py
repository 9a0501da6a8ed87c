"""Interventions: a discount you grant a named account or a whole segment, as a mechanism in the run.

``--grant "ACME=5%@0"`` means: your company (the first supplier) grants ACME a 5% discount
at ACME's next renewal on or after period 0. The grant is applied right after that
renewal's negotiation (the account keeps the larger of what it negotiated and the
grant), from then on the ratchet and the peer network treat it like any other
discount, so parity demands spread it as usual. A grant to a segment applies to each of
your customers in it at its own next renewal.

A what-if may also ask a grant as a step on the account's current discount
(``ACME=+2pp``) or as a range of levels (``ACME=0..10%``, a cost curve; ``/1pp`` sets the
step between levels): :func:`parse_question` reads all three forms; a scenario only ever
holds levels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.errors import InputError, excerpt
from sim.inputs.values import _suggest

if TYPE_CHECKING:
    from sim.inputs.schema import Intervention, Scenario

# The name runs to the last '=' (a level or a period never holds one), so an account called "A=B GmbH" can be named.
_GRANT = re.compile(r"^(?P<to>.+)=(?P<level>[^=@]+)(?:@(?P<start>[^=@]+))?$")
_YEARS = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*y(?:ears?)?$")


def parse_grant(text: str) -> dict[str, Any]:
    """``NAME=LEVEL[@PERIOD]`` from the command line as an intervention mapping (PERIOD may be ``2y``)."""
    match = _GRANT.match(text.strip())
    if not match:
        raise InputError(f"expected NAME=LEVEL@PERIOD such as ACME=5%@0, got {text!r}", source="--grant")
    level = match["level"].strip()
    if level.startswith("+") or ".." in level:
        raise InputError(
            f"{level!r} is a what-if question (a step or a range): ask it with `procsim whatif`; "
            "a run grants a level such as 5%",
            source="--grant",
            field=match["to"].strip(),
        )
    start = (match["start"] or "0").strip()
    return {"grant": level, "to": match["to"].strip(), "from_period": start}


MAX_LEVEL = 0.9  # as the scenario's interventions allow
MAX_LEVELS = 21  # points of a cost curve
_STEP = re.compile(r"^\+\s*(?P<n>\d+(?:\.\d+)?)\s*pp$", re.IGNORECASE)
_RANGE = re.compile(r"^(?P<lo>.*?)\s*\.\.\s*(?P<hi>[^/]+?)\s*(?:/\s*(?P<by>.+))?$")


@dataclass(frozen=True)
class GrantQuestion:
    """One ``--grant`` of a what-if: a level (``6%``), a step on the current discount (``+2pp``) or a range."""

    to: str
    form: str  # "level", "step" or "range"
    levels: tuple[float, ...]  # the level, the step (form "step"), or every level of the range
    start: str
    text: str

    def intervention(self, level: float) -> dict[str, Any]:
        """The scenario's intervention granting ``level``."""
        return {"grant": level, "to": self.to, "from_period": self.start}


def parse_question(text: str) -> GrantQuestion:
    """``NAME=6%``, ``NAME=+2pp`` or ``NAME=0..10%[/1pp]``, each optionally ``@PERIOD``; an error says which part is wrong."""
    match = _GRANT.match(str(text).strip())
    if not match:
        raise InputError(
            f"expected NAME=LEVEL@PERIOD such as ACME=6%, ACME=+2pp or ACME=0..10%, got {excerpt(text)}",
            source="--grant",
        )
    to, level, start = match["to"].strip(), match["level"].strip(), (match["start"] or "0").strip()
    where = {"source": "--grant", "field": to}
    if not to:
        raise InputError("name the account or segment before '='", **where)
    if level.startswith(("+", "-")) and ".." not in level:
        step = _STEP.match(level)
        if not step or level.startswith("-"):
            raise InputError(
                f"a step is written in percentage points above the current discount, such as +2pp; got {excerpt(level)}",
                **where,
            )
        value = float(step["n"]) / 100.0
        if not 0 < value <= MAX_LEVEL:
            raise InputError(f"a step must be above 0 and at most 90pp, got {excerpt(level)}", **where)
        return GrantQuestion(to, "step", (value,), start, text)
    span = _RANGE.match(level)
    if span:
        hi_text = span["hi"].strip()
        lo_text = span["lo"].strip() or "0"
        if hi_text.endswith("%") and not lo_text.endswith("%"):
            lo_text += "%"  # 0..10% reads as 0% to 10%
        lo, hi = _level(lo_text, where), _level(hi_text, where)
        if not lo < hi:
            raise InputError(
                f"a range goes from a lower to a higher level, such as 0..10%; got {excerpt(level)}", **where
            )
        by = _points(span["by"], where) if span["by"] else _default_step(hi - lo)
        count = math.floor((hi - lo) / by + 1e-9) + 1
        if count > MAX_LEVELS:
            raise InputError(
                f"a range of at most {MAX_LEVELS} levels: {count} at steps of {100 * by:g}pp; widen the step (/2pp)",
                **where,
            )
        levels = [round(lo + k * by, 10) for k in range(count)]
        if levels[-1] < hi - 1e-9:
            levels.append(hi)
        return GrantQuestion(to, "range", tuple(levels), start, text)
    return GrantQuestion(to, "level", (_level(level, where),), start, text)


def _level(text: str, where: dict[str, str]) -> float:
    """A discount level: ``6%``, ``6 %`` or ``0.06``; a bare number above 0.9 gets the percent hint."""
    raw = text.strip().replace(" ", "")
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InputError(f"expected a discount such as 6% or 0.06, got {excerpt(text)}", **where) from None
    if not 0 <= value <= MAX_LEVEL:
        hint = f" (write {raw}% for {raw} percent)" if not raw.endswith("%") and 1 < value <= 90 else ""
        raise InputError(f"a discount must be between 0% and 90%, got {excerpt(text)}{hint}", **where)
    return value


def _points(text: str, where: dict[str, str]) -> float:
    raw = text.strip().lower().replace(" ", "")
    number = raw.removesuffix("pp").removesuffix("%")
    try:
        value = float(number) / 100.0
    except ValueError:
        raise InputError(
            f"expected the step between levels in points, such as /1pp; got {excerpt(text)}", **where
        ) from None
    if not 0 < value <= MAX_LEVEL:
        raise InputError(f"the step between levels must be above 0pp, got {excerpt(text)}", **where)
    return value


def _default_step(span: float) -> float:
    """1pp for a span up to 10 points; else the smallest of 2, 2.5, 5 and 10pp that keeps it to 11 levels."""
    for step in (0.01, 0.02, 0.025, 0.05, 0.1):
        if span / step <= 10 + 1e-9:
            return step
    return span / 10


def start_period(value: int | str, periods_per_year: int) -> int:
    """A period number, or years written ``2y`` (= 2 x periods per year)."""
    if isinstance(value, bool):
        raise ValueError("expected a period number or years such as 2y")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    years = _YEARS.match(text)
    if years:
        return round(float(years["n"]) * periods_per_year)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a period number or years such as 2y, got {value!r}") from None


def resolve(scenario: Scenario) -> None:
    """Check each intervention's target and start against the scenario; start periods become numbers."""

    source = scenario.source or "<scenario>"
    accounts = {a.name for a in scenario.accounts}
    segments = {g.name for g in scenario.customers}
    for i, item in enumerate(scenario.interventions):
        where = f"interventions[{i}]"
        if item.to in accounts and item.to in segments:
            raise InputError(
                f"{item.to!r} is both an account and a segment; rename one of them", source=source, field=f"{where}.to"
            )
        if item.to not in accounts | segments:
            known = sorted(accounts | segments)
            raise InputError(
                f"no account or segment named {item.to!r}{_suggest(item.to, known)}; "
                f"accounts: {', '.join(sorted(accounts)) or 'none (add accounts_file: or --accounts)'}; "
                f"segments: {', '.join(sorted(segments))}",
                source=source,
                field=f"{where}.to",
            )
        try:
            start = start_period(item.from_period, scenario.periods_per_year)
        except ValueError as exc:
            raise InputError(str(exc), source=source, field=f"{where}.from_period") from None
        if not 0 <= start < scenario.periods:
            raise InputError(
                f"must be a period within the horizon (0 to {scenario.periods - 1}), got {start}",
                source=source,
                field=f"{where}.from_period",
            )
        item.from_period = start


def describe(item: Intervention | dict[str, Any]) -> str:
    """``grant ACME 5% from period 0`` for headers and labels."""
    data = item if isinstance(item, dict) else item.model_dump()
    level = data["grant"]
    shown = f"{100 * level:g}%" if isinstance(level, float) else str(level)
    return f"grant {data['to']} {shown} from period {data['from_period']}"
