""" "You" as a supplier of your own: ``--set you.strategy=hold`` changes the first supplier only.

A scenario's suppliers come in groups (``baseline``: three that share one cost structure
and strategy), so ``--set suppliers.strategy=hold`` changes every supplier, rivals
included. A ``you.`` setting splits the first supplier (you) from its group into a group
of its own called ``you``, with the same parameters, and changes only that group. The
split alone changes nothing: every supplier keeps its numbers and the random draws are
the same, so a what-if that splits both sides compares like with like.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sim.errors import InputError
from sim.inputs.loading import build_scenario
from sim.inputs.overrides import _apply_override
from sim.inputs.schema import Scenario

PREFIX = "you."


def you_settings(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``overrides`` split into (the scenario's own, the ``you.`` settings without their prefix)."""
    own = {k: v for k, v in overrides.items() if not k.startswith(PREFIX)}
    mine = {k[len(PREFIX) :]: v for k, v in overrides.items() if k.startswith(PREFIX)}
    return own, mine


def group_name(scenario: Scenario) -> str:
    """The name of your own group: ``you`` unless a group of the scenario already has it."""
    names = [g.name for g in scenario.suppliers]
    if scenario.suppliers[0].name == "you" and scenario.suppliers[0].count == 1:
        return "you"
    return "you" if "you" not in names else "you (first supplier)"


def with_you(scenario: Scenario, settings: Mapping[str, Any], *, source: str = "--set") -> Scenario:
    """``scenario`` with the first supplier split from its group as ``you``, ``settings`` applied to you alone.

    A bad setting is an :class:`InputError` naming ``you.FIELD``.
    """
    data = scenario.to_yaml_dict()
    groups = data["suppliers"]["groups"]
    name = group_name(scenario)
    first = groups[0]
    if first["name"] != name or first["count"] != 1:
        mine = copy.deepcopy(first)
        mine["name"], mine["count"] = name, 1
        first["count"] -= 1
        groups[:] = [mine, *([first] if first["count"] else []), *groups[1:]]
    for key, value in settings.items():
        try:
            _apply_override(data, f"suppliers.groups.{name}.{key}", value)
        except InputError as exc:
            raise InputError(exc.message, source=source, field=f"{PREFIX}{key}") from None
    try:
        out = build_scenario(data, source=scenario.source or "<scenario>")
    except InputError as exc:
        field = exc.field or ""
        key = next((k for k in settings if field.endswith(k) or k.startswith(field.split(".")[-1])), None)
        if key is None:
            raise
        raise InputError(exc.message, source=source, field=f"{PREFIX}{key}") from None
    out.source = scenario.source
    out.overrides = {**scenario.overrides, **{f"{PREFIX}{k}": v for k, v in settings.items()}}
    return out


def rivals(scenario: Scenario) -> int:
    """How many suppliers besides you."""
    return scenario.n_suppliers - 1
