"""Interventions: a discount you grant a named account or a whole segment, as a mechanism in the run.

``--grant "ACME=5%@0"`` means: your company (the first supplier) grants ACME a 5% discount
at ACME's next renewal on or after period 0. The grant is applied right after that
renewal's negotiation (the account keeps the larger of what it negotiated and the
grant), from then on the ratchet and the peer network treat it like any other
discount, so parity demands spread it as usual. A grant to a segment applies to each of
your customers in it at its own next renewal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.inputs.values import _suggest

if TYPE_CHECKING:
    from sim.inputs.schema import Intervention, Scenario

_GRANT = re.compile(r"^(?P<to>[^=]+)=(?P<level>[^@]+)(?:@(?P<start>.+))?$")
_YEARS = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*y(?:ears?)?$")


def parse_grant(text: str) -> dict[str, Any]:
    """``NAME=LEVEL[@PERIOD]`` from the command line as an intervention mapping (PERIOD may be ``2y``)."""
    match = _GRANT.match(text.strip())
    if not match:
        raise InputError(f"expected NAME=LEVEL@PERIOD such as ACME=5%@0, got {text!r}", source="--grant")
    start = (match["start"] or "0").strip()
    return {"grant": match["level"].strip(), "to": match["to"].strip(), "from_period": start}


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
