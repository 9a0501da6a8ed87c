"""A what-if's question made concrete: grants as levels on the scenario, steps resolved, a range's levels.

``--grant`` reads three forms (:func:`sim.inputs.grants.parse_question`): a level
(``ACME=6%``), a step on the account's current discount (``ACME=+2pp``, which needs a
named account) and a range of levels (``ACME=0..10%``, a cost curve, at most one per
what-if). :func:`plan` resolves them against the base scenario; :func:`with_grants`
puts a set of levels on a scenario, as the engine only ever grants levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.errors import InputError
from sim.inputs.grants import GrantQuestion, resolve
from sim.inputs.schema import Intervention, Scenario


@dataclass
class Plan:
    """What a what-if asks: fixed grants (each a level, with the current discount and step for the words),
    at most one range, and the keep probability to search the range for (``find``)."""

    grants: list[dict[str, Any]] = field(default_factory=list)
    curve: GrantQuestion | None = None
    current: float | None = None  # the ranged account's current discount
    find: float | None = None

    def grants_at(self, level: float | None) -> list[dict[str, Any]]:
        """Every grant of the what-if, the range's at ``level``."""
        out = list(self.grants)
        if self.curve is not None and level is not None:
            out.append(
                {"to": self.curve.to, "level": level, "current": self.current, "step": None, "start": self.curve.start}
            )
        return out


def current_discounts(scenario: Scenario) -> dict[str, float]:
    """Each named account's current discount (from the accounts file)."""
    return {a.name: float(a.current_discount) for a in scenario.accounts}


def plan(base: Scenario, questions: Sequence[GrantQuestion], find: float | None = None) -> Plan:
    """Resolve the ``--grant`` questions against the base: steps become levels; one range at most.

    ``find`` (a probability) asks for the largest level of the range that keeps the account
    and its named peers with you in at least that share of runs; it needs a range.
    """
    now = current_discounts(base)
    out = Plan(find=find)
    for q in questions:
        where = {"source": "--grant", "field": q.to}
        current = now.get(q.to)
        if q.form == "range":
            if out.curve is not None:
                raise InputError("one range per what-if: give the other grants as levels such as 6%", **where)
            out.curve, out.current = q, current
            continue
        if q.form == "step":
            if current is None:
                raise InputError(
                    f"a step (+{100 * q.levels[0]:g}pp) adds to an account's current discount; {q.to!r} is not a "
                    "named account of the accounts file: give it a level such as 6%",
                    **where,
                )
            level = round(current + q.levels[0], 10)
            if level > 0.9:
                raise InputError(f"{current:.1%} now plus the step is above 90%", **where)
            out.grants.append({"to": q.to, "level": level, "current": current, "step": q.levels[0], "start": q.start})
        else:
            out.grants.append({"to": q.to, "level": q.levels[0], "current": current, "step": None, "start": q.start})
    if find is not None and out.curve is None:
        raise InputError("--find searches a range of grants: give one, such as --grant 'ACME=0..10%'", field="--find")
    return out


def with_grants(scenario: Scenario, grants: Sequence[dict[str, Any]]) -> Scenario:
    """``scenario`` with these grants added as interventions (checked as ``--grant``: a bad target names it)."""
    if not grants:
        return scenario
    out = scenario.model_copy(deep=True)
    out.overrides = dict(scenario.overrides)
    out.source = scenario.source
    first = len(out.interventions)
    out.interventions = [
        *out.interventions,
        *(Intervention.model_validate({"grant": g["level"], "to": g["to"], "from_period": g["start"]}) for g in grants),
    ]
    try:
        resolve(out)
    except InputError as exc:
        index = (exc.field or "").removeprefix("interventions[").split("]")[0]
        if index.isdigit() and int(index) >= first:
            grant = grants[int(index) - first]
            raise InputError(exc.message, source="--grant", field=str(grant["to"])) from None
        raise
    return out
