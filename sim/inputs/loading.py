"""Scenarios: YAML files in business terms, validated, merged (``extends:``) and resolved.

A scenario names a market (suppliers and customers, in groups), their strategies and
their numbers as a strategy team knows them (margins, spend as % of revenue, annual
revenue per customer). ``load_scenario`` reads a file or a bundled name, applies
``extends:`` and ``--set`` overrides, validates every field and returns a
:class:`Scenario` whose groups are fully resolved (procurement-style presets filled in).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from sim.engine.strategies import PROCUREMENT_STYLES
from sim.errors import InputError, clean, excerpt
from sim.inputs import accounts, grants
from sim.inputs.overrides import _apply_override
from sim.inputs.schema import GROUPED, CustomerGroup, Intervention, Scenario, Strict, SupplierGroup
from sim.inputs.validation import _translate, _validate_section
from sim.inputs.values import _suggest
from sim.inputs.yamlio import load_mapping

REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
MINIMAL_SCENARIO = "'extends: baseline' and then only what differs, e.g. 'customers: {count: 200}'"
MAX_EXTENDS = 16  # files in one extends: chain


# --------------------------------------------------------------------------- value types


# --------------------------------------------------------------------------- sections


# --------------------------------------------------------------------------- loading

GROUP_MODELS: dict[str, type[Strict]] = {"suppliers": SupplierGroup, "customers": CustomerGroup}


def scenario_search_path() -> list[Path]:
    """Folders searched for a scenario given by name, in order."""
    extra = [Path(p) for p in os.environ.get("PROCSIM_SCENARIOS", "").split(os.pathsep) if p]
    return [*extra, Path.cwd() / "scenarios", REPO_SCENARIOS]


def _known_names() -> list[str]:
    return sorted({p.stem for d in scenario_search_path() if d.is_dir() for p in d.glob("*.yaml")})


def _not_found(text: str, source: str | None = None, field: str | None = None) -> InputError:
    known = _known_names()
    return InputError(
        f"no scenario file or bundled scenario named {excerpt(text)}{_suggest(Path(text).stem, known)}"
        + (f"; bundled: {', '.join(known)}" if known else ""),
        source=source if source is not None else text,
        field=field,
    )


def find_scenario(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a scenario name (``baseline``) or a path given on the command line to an existing file.

    A path is taken as written (relative to the current folder); a name is looked up in
    PROCSIM_SCENARIOS, ./scenarios and the bundled scenarios, in that order.
    """
    text = str(name_or_path)
    candidates = [Path(text)]
    suffix = "" if text.endswith((".yaml", ".yml")) else ".yaml"
    candidates += [d / f"{text}{suffix}" for d in scenario_search_path()]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise _not_found(text)


def allowed_roots(*files: Path) -> list[Path]:
    """Folders a file may refer into (``extends:``, ``base:``): the folders of ``files`` and their
    subfolders, PROCSIM_SCENARIOS, ./scenarios and the bundled scenarios."""
    return list(dict.fromkeys(Path(os.path.realpath(p)) for p in [*(f.parent for f in files), *scenario_search_path()]))


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_reference(text: str, naming: Path, roots: Sequence[Path], *, field: str) -> Path:
    """The scenario file that ``naming`` refers to in ``field`` (``extends:`` or a sweep's ``base:``).

    A relative path is relative to ``naming``'s folder (never the current folder, so the
    result does not depend on where procsim runs); a bare name is looked up beside
    ``naming`` and then as a bundled name. A target outside ``roots`` is refused without
    being opened, and its content never appears in a message.
    """
    source = str(_display_path(naming))
    if not text.strip():
        raise InputError("names no scenario", source=source, field=field)
    ref = Path(text)
    folders = [naming.parent, *scenario_search_path()]
    if ref.is_absolute():
        candidates = [ref]
    elif len(ref.parts) > 1:
        candidates = [naming.parent / ref]
    else:
        suffix = "" if text.endswith((".yaml", ".yml")) else ".yaml"
        candidates = [d / f"{text}{suffix}" for d in folders]
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if not _inside(real, roots):
            raise InputError(
                f"{excerpt(text)} is outside the folders a scenario may refer to (this file's folder and its "
                "subfolders, ./scenarios, the bundled scenarios and PROCSIM_SCENARIOS); copy it into one of them",
                source=source,
                field=field,
            )
        if real.is_file():
            return real
    raise _not_found(text, source, field)


def list_scenarios() -> list[tuple[str, str, Path]]:
    """Scenarios found by name as (name, one-line description, path), sorted by name.

    A file that cannot be read is listed with the reason instead of its description, and
    the listing goes on.
    """
    seen: dict[str, tuple[str, str, Path]] = {}
    for folder in scenario_search_path():
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if path.stem in seen:
                continue
            try:
                raw = _read_yaml(path)
                text = raw.get("description", "")
                desc = text.strip().splitlines()[0] if isinstance(text, str) and text.strip() else ""
                desc = clean(desc, 120)
            except InputError as exc:
                desc = f"(invalid: {clean(exc.message, 160)})"
            seen[path.stem] = (path.stem, desc, path)
    return sorted(seen.values())


def _read_yaml(path: Path) -> dict[str, Any]:
    return load_mapping(path, what="scenario", minimal=MINIMAL_SCENARIO, source=str(_display_path(path)))


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "groups":
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_raw(path: Path, chain: tuple[Path, ...] = (), roots: Sequence[Path] | None = None) -> dict[str, Any]:
    """Read a file and everything it extends, merged (child wins).

    ``roots`` are the folders ``extends:`` may point into (default: see :func:`allowed_roots`
    for this file); every file in the chain may also refer into its own folder.
    """
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise InputError(f"extends forms a cycle: {cycle}", source=str(_display_path(chain[0])), field="extends")
    if len(chain) >= MAX_EXTENDS:
        raise InputError(
            f"extends goes more than {MAX_EXTENDS} files deep", source=str(_display_path(chain[0])), field="extends"
        )
    roots = list(roots) if roots is not None else allowed_roots(path)
    raw = _read_yaml(path)
    parent = raw.pop("extends", None)
    raw.setdefault("name", path.stem)
    if isinstance(raw.get("accounts_file"), str) and raw["accounts_file"].strip():
        raw["accounts_file"] = str(_accounts_path(raw["accounts_file"], path, roots))
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise InputError(
            f"extends names one scenario (a name or a path), got {excerpt(parent)}",
            source=str(_display_path(path)),
            field="extends",
        )
    parent_path = resolve_reference(parent, path, [*roots, Path(os.path.realpath(path.parent))], field="extends")
    base = _load_raw(parent_path, (*chain, path), roots)
    base.pop("name", None)
    base.pop("description", None)
    return _deep_merge(base, raw)


def _accounts_path(text: str, naming: Path, roots: Sequence[Path]) -> Path:
    """An ``accounts_file:`` named in a scenario file: relative to that file, inside the allowed folders.

    Account names end up in reports, so a shared scenario must not be able to pull in a
    spreadsheet from elsewhere on the reader's disk; ``--accounts FILE`` on the command
    line may name any file.
    """
    path = naming.parent / Path(text).expanduser()
    if not _inside(Path(os.path.realpath(path)), [*roots, Path(os.path.realpath(naming.parent))]):
        raise InputError(
            f"{excerpt(text)} is outside the folders a scenario may refer to (this file's folder and its "
            "subfolders, ./scenarios, the bundled scenarios and PROCSIM_SCENARIOS); copy it beside the "
            "scenario or give it with --accounts",
            source=str(_display_path(naming)),
            field="accounts_file",
        )
    return path


def _resolve_groups(kind: str, section: Any, source: str) -> list[Strict]:
    """Expand a ``suppliers:``/``customers:`` section into validated groups."""
    model = GROUP_MODELS[kind]
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise InputError("expected a mapping of fields (optionally with groups:)", source=source, field=kind)
    common = {k: v for k, v in section.items() if k != "groups"}
    groups = section.get("groups")
    _validate_section(model, common, source, kind)  # report shared fields once, at their own path
    if groups is None:
        common.setdefault("name", kind)
        group_data = [common]
        paths = [kind]
    else:
        if not isinstance(groups, list) or not groups:
            raise InputError("groups must be a non-empty list of group mappings", source=source, field=f"{kind}.groups")
        group_data, paths = [], []
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                raise InputError("each group must be a mapping of fields", source=source, field=f"{kind}.groups[{i}]")
            merged = _deep_merge(common, group)
            merged.setdefault("name", f"{kind}_{i + 1}" if len(groups) > 1 else kind)
            group_data.append(merged)
            paths.append(f"{kind}.groups.{merged['name']}")
    out = []
    for data, path in zip(group_data, paths, strict=True):
        group = _validate_section(model, data, source, path)
        if isinstance(group, CustomerGroup):
            group.procurement = group.procurement.resolved()
            if group.engagement is None:
                group.engagement = PROCUREMENT_STYLES[group.procurement.style].engagement
        out.append(group)
    return out


def build_scenario(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate merged raw data into a resolved :class:`Scenario`."""
    raw = copy.deepcopy(raw)
    if "extends" in raw:
        raise InputError("extends is only allowed in files", source=source, field="extends")
    top = {k: v for k, v in raw.items() if k not in GROUPED}
    for key in top:
        if key not in Scenario.model_fields or key in ("source", "overrides"):
            known = list(
                dict.fromkeys([k for k in Scenario.model_fields if k not in ("source", "overrides")] + list(GROUPED))
            )
            hint = _suggest(key, known)
            raise InputError(
                "unknown field" + (hint or f"; known fields: {', '.join(known)}"), source=source, field=key
            )
    groups = {kind: _resolve_groups(kind, raw.get(kind), source) for kind in GROUPED}
    problems = accounts.Problems()  # every bad account cell, of the file and the scenario's list, at once
    named = accounts.parse_accounts(top.pop("accounts", None), source, problems)
    accounts_file = top.pop("accounts_file", None)
    sheet = top.pop("accounts_sheet", None)
    if sheet is not None and not isinstance(sheet, str):
        raise InputError(f"expected a worksheet's name, got {excerpt(sheet)}", source=source, field="accounts_sheet")
    if accounts_file is not None:
        if not isinstance(accounts_file, str) or not accounts_file.strip():
            raise InputError("expected the path of a .csv or .xlsx file", source=source, field="accounts_file")
        named += accounts.read_accounts(accounts_file, sheet, problems)
    plans = top.pop("interventions", None) or []
    if not isinstance(plans, list):
        raise InputError(
            "expected a list of interventions (grant, to, from_period)", source=source, field="interventions"
        )
    for i, plan in enumerate(plans):
        _validate_section(Intervention, plan, source, f"interventions[{i}]")
    try:
        scenario = Scenario.model_validate({**top, **{k: [g.model_dump() for g in v] for k, v in groups.items()}})
    except ValidationError as exc:
        field, msg = _translate(exc, Scenario, "")[0]
        if msg.startswith(("suppliers.count:", "customers.count:", "suppliers.groups:", "customers.groups:")):
            field, _, msg = msg.partition(": ")
        raise InputError(msg, source=source, field=field) from None
    scenario.source = source
    if named or problems.items:
        accounts._unique(named, source, problems)
        scenario.accounts = named
        accounts.resolve(scenario, problems)
        problems.check()
    if plans:
        scenario.interventions = [Intervention.model_validate(p) for p in plans]
        grants.resolve(scenario)
    return scenario


def load_scenario(
    path_or_name: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    interventions: Sequence[Mapping[str, Any]] = (),
) -> Scenario:
    """Read, merge, override and validate a scenario.

    ``overrides`` maps dotted paths to values, e.g. ``{"customers.count": 2000}``; a value on
    ``suppliers.*`` or ``customers.*`` applies to every group, ``segments.NAME.*`` to one
    customer group. ``interventions`` are added to the file's (``--grant``). Raises
    :class:`InputError` naming the file and the field on any invalid input.
    """
    path = find_scenario(path_or_name)
    raw = _load_raw(path)
    for key, value in (overrides or {}).items():
        _apply_override(raw, key, value)
    if interventions:
        if not isinstance(raw.get("interventions") or [], list):
            raise InputError("expected a list of interventions", source=str(path), field="interventions")
        raw["interventions"] = [*(raw.get("interventions") or []), *map(dict, interventions)]
    source = str(_display_path(path))
    try:
        scenario = build_scenario(raw, source)
        scenario.overrides = json.loads(json.dumps(dict(overrides or {}), default=str))  # as recorded in JSON
        return scenario
    except InputError as exc:
        listed = raw.get("interventions")
        first = (len(listed) if isinstance(listed, list) else 0) - len(interventions)
        index = (
            exc.field[len("interventions[") :].split("]")[0]
            if exc.field and exc.field.startswith("interventions[")
            else ""
        )
        if index.isdigit() and int(index) >= first:
            exc.source, exc.field = "--grant", _grant_text(interventions[int(index) - first])
            raise
        if (
            overrides
            and exc.field
            and any(exc.field == k or exc.field.endswith("." + k.split(".", 1)[-1]) for k in overrides)
        ):
            exc.source = f"{source} (with --set)"
        raise


def _grant_text(item: Mapping[str, Any]) -> str:
    return f"{item.get('to')}={item.get('grant')}@{item.get('from_period', 0)}"


def _display_path(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
