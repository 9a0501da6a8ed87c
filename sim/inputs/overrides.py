"""``--set PATH=VALUE``: dotted paths into a scenario's raw data, per group or per segment."""

from __future__ import annotations

from typing import Any

from sim.errors import InputError, excerpt
from sim.inputs.schema import GROUPED
from sim.inputs.values import _suggest
from sim.inputs.yamlio import parse_value


def parse_override(text: str) -> tuple[str, Any]:
    """Split a ``path=value`` override; the value is read as YAML (numbers, 8%, {0: 0.1, 12: 0})."""
    if "=" not in text:
        raise InputError(f"expected path=value, got {excerpt(text)}", source="--set")
    path, _, value = text.partition("=")
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise InputError(f"expected a dotted path such as customers.count, got {excerpt(path)}", source="--set")
    if len(path) > 200 or len(path.split(".")) > 8:
        raise InputError(f"expected a dotted path such as customers.count, got {excerpt(path)}", source="--set")
    parsed = parse_value(value, source="--set", field=path) if value.strip() else None
    return path, parsed


def _segment_path(raw: dict[str, Any], path: str) -> str:
    """``segments.NAME.rest`` is ``customers.groups.NAME.rest`` (or ``customers.rest`` for a single group)."""
    parts = path.split(".")
    if len(parts) < 3:
        raise InputError("expected segments.NAME.field, e.g. segments.automotive.count", source="--set", field=path)
    section = raw.get("customers")
    groups = section.get("groups") if isinstance(section, dict) else None
    if groups is None:
        single = section.get("name", "customers") if isinstance(section, dict) else "customers"
        if parts[1] == single:
            return ".".join(["customers", *parts[2:]])
        raise InputError(
            f"no segment named {parts[1]!r}{_suggest(parts[1], [single])}; the scenario's one segment is {single!r}",
            source="--set",
            field=path,
        )
    return ".".join(["customers", "groups", *parts[1:]])


def _apply_override(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path; on ``suppliers``/``customers`` it applies to every group."""
    if path.split(".", maxsplit=1)[0] == "segments":
        path = _segment_path(raw, path)
    parts = path.split(".")
    head = parts[0]
    if head in GROUPED and len(parts) >= 3 and parts[1] == "groups":
        section = raw.setdefault(head, {})
        groups = section.get("groups") if isinstance(section, dict) else None
        groups = groups if isinstance(groups, list) else []
        match = [g for g in groups if isinstance(g, dict) and g.get("name") == parts[2]]
        if not match:
            names = [str(g.get("name")) for g in groups if isinstance(g, dict)]
            raise InputError(
                f"no group named {excerpt(parts[2])} in {head}{_suggest(parts[2], names)}", source="--set", field=path
            )
        _set_path(match[0], parts[3:], value, path)
        return
    _set_path(raw, parts, value, path)
    if head in GROUPED and len(parts) >= 2 and isinstance(raw.get(head), dict):
        groups = raw[head].get("groups")
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict):
                _delete_path(group, parts[1:])


def _set_path(node: dict[str, Any], parts: list[str], value: Any, full: str) -> None:
    if not parts:
        raise InputError("the path names a group, not a field", source="--set", field=full)
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InputError(f"{excerpt(part)} is a value, not a section", source="--set", field=full)
        node = child
    node[parts[-1]] = value


def _delete_path(node: dict[str, Any], parts: list[str]) -> None:
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)
