"""What a calibration fits: ``--fit PATH=LOW..HIGH`` checked against the scenario, and its settings.

A fitted parameter is any continuous number of the scenario (the paths ``--set`` takes),
with a uniform prior between its bounds. Both bounds and a value between them are built
into the scenario before anything runs, so a typo, a value out of the field's range or a
whole-number field (a count, the horizon: they change the market's structure, which every
run of an ensemble must share) is one message naming ``--fit`` and the path.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import typing
from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.calibration.observed import Observed
from sim.errors import InputError, excerpt
from sim.inputs.loading import build_scenario
from sim.inputs.overrides import _apply_override
from sim.inputs.schema import Scenario, field_at
from sim.inputs.values import Bounds
from sim.version import __version__

MAX_FITS = 8
MAX_REPLICATES = 50
MAX_BUDGET = 2_000_000
INTERIOR = 0.381966  # a value between the bounds that no whole-number field takes by chance (golden section)
_RANGE = re.compile(r"^\s*(?P<low>[^.]+(?:\.\d+)?%?)\s*\.\.\s*(?P<high>.+?)\s*$")


@dataclass(frozen=True)
class Fit:
    """One fitted parameter: its scenario path and the bounds of its uniform prior."""

    path: str
    low: float
    high: float
    percent: bool = False  # shown as a percentage (the field is a share, or the bounds were written with %)

    @property
    def name(self) -> str:
        """The parameter as people read it: ``savings target``, ``margin defense``."""
        return self.path.rsplit(".", 1)[-1].replace("_", " ")

    def format(self, value: float, digits: int = 1) -> str:
        """A value in the parameter's unit: ``8.4%`` or ``0.512``."""
        if self.percent:
            text = f"{100 * value:.{digits}f}".rstrip("0").rstrip(".")
            return f"{text}%"
        return f"{value:.3g}"

    def span(self, low: float, high: float) -> str:
        """A range in the unit: ``7.9-9.1%``, ``0.41-0.57``."""
        if self.percent:
            return f"{self.format(low).rstrip('%')}-{self.format(high)}"
        return f"{self.format(low)}-{self.format(high)}"


def parse_fit(text: str) -> Fit:
    """``PATH=LOW..HIGH``, e.g. ``customers.procurement.savings_target=2%..20%`` or ``suppliers.margin_defense=0..1``."""
    path, sep, bounds = text.partition("=")
    path = path.strip()
    if not sep or not path or any(not part for part in path.split(".")) or len(path) > 200:
        raise InputError(
            f"expected PATH=LOW..HIGH such as customers.procurement.savings_target=2%..20%, got {excerpt(text)}",
            source="--fit",
        )
    low_text, dots, high_text = bounds.partition("..")
    if not dots:
        raise InputError(
            f"expected LOW..HIGH such as 0..1 or 2%..20%, got {excerpt(bounds)}", source="--fit", field=path
        )
    low, high = _bound(low_text, path), _bound(high_text, path)
    if not low < high:
        raise InputError(f"the low bound must be below the high one, got {excerpt(bounds)}", source="--fit", field=path)
    return Fit(path, low, high, percent="%" in bounds or _percent_field(path))


def _bound(text: str, path: str) -> float:
    text = text.strip().replace("_", "")
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise InputError(
            f"expected a number or a percentage, got {excerpt(text)}", source="--fit", field=path
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"expected a finite number, got {excerpt(text)}", source="--fit", field=path)
    return value


def _percent_field(path: str) -> bool:
    """Whether the schema documents the field at ``path`` as a share (written as a percentage)."""
    info = field_at(path)
    bounds = next((m for m in info.metadata if isinstance(m, Bounds)), None) if info is not None else None
    return bool(bounds and bounds.pct)


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as the plain data overrides apply to (its accounts inline, not read again)."""
    data = yaml.safe_load(scenario.to_yaml())
    data.pop("accounts_file", None)
    return data


def build(data: dict[str, Any], paths: typing.Sequence[str], values: typing.Sequence[float], source: str) -> Scenario:
    """The scenario with each fitted path set to its value."""
    raw = copy.deepcopy(data)
    for path, value in zip(paths, values, strict=True):
        _apply_override(raw, path, float(value))
    return build_scenario(raw, source=source)


class Builder:
    """Scenarios at many values of the same paths, fast: a full build (``build``) costs 0.8 ms, a deep copy of a
    built scenario with the fields set (each validated on assignment) 0.1 ms, a sixth of a 300-customer run.

    The first scenario is built in full and kept as the template; the second is made both ways and, only if
    the two are the same scenario (``to_yaml``), the rest are copies; otherwise every one is built in full.
    """

    def __init__(self, data: dict[str, Any], paths: typing.Sequence[str], source: str):
        self.data, self.paths, self.source = data, tuple(paths), source
        self.template: Scenario | None = None
        self.fast: bool | None = None

    def __call__(self, values: typing.Sequence[float]) -> Scenario:
        if self.template is None:
            self.template = build(self.data, self.paths, values, self.source)
            return self.template
        if self.fast is None:
            full = build(self.data, self.paths, values, self.source)
            try:
                self.fast = self._copy(values).to_yaml() == full.to_yaml()
            except (ValueError, TypeError, AttributeError):
                self.fast = False
            return full
        return self._copy(values) if self.fast else build(self.data, self.paths, values, self.source)

    def _copy(self, values: typing.Sequence[float]) -> Scenario:
        assert self.template is not None  # noqa: S101 - set by the first call
        scenario = self.template.model_copy(deep=True)
        for path, value in zip(self.paths, values, strict=True):
            for section, name in _fields(scenario, path):
                setattr(section, name, float(value))
        return scenario


def _fields(scenario: Scenario, path: str) -> list[tuple[Any, str]]:
    """The (section, field name) pairs a ``--set`` path writes: every group's, one group's, or the scenario's."""
    parts = path.split(".")
    if parts[0] == "segments":
        sections, rest = [g for g in scenario.customers if g.name == parts[1]], parts[2:]
    elif parts[0] in ("suppliers", "customers"):
        groups = getattr(scenario, parts[0])
        named = len(parts) >= 3 and parts[1] == "groups"
        sections = [g for g in groups if g.name == parts[2]] if named else list(groups)
        rest = parts[3:] if named else parts[1:]
    else:
        sections, rest = [scenario], parts
    out = []
    for group in sections:
        section = group
        for part in rest[:-1]:
            section = getattr(section, part)
        out.append((section, rest[-1]))
    if not out:
        raise ValueError(f"no section for {path}")
    return out


def check_fits(scenario: Scenario, fits: list[Fit], fixed: dict[str, Any]) -> tuple[Fit, ...]:
    """Refuse a fit that repeats, that ``--set`` also sets, or whose bounds the scenario does not take."""
    if not fits:
        raise InputError("nothing to fit: give --fit PATH=LOW..HIGH (e.g. suppliers.margin_defense=0..1)")
    if len(fits) > MAX_FITS:
        raise InputError(f"at most {MAX_FITS} parameters can be fitted at once, got {len(fits)}", source="--fit")
    seen: set[str] = set()
    data = scenario_data(scenario)
    for fit in fits:
        if fit.path in seen:
            raise InputError("is fitted twice", source="--fit", field=fit.path)
        if fit.path in fixed:
            raise InputError("is both fitted and set with --set; keep one", source="--fit", field=fit.path)
        seen.add(fit.path)
        for value in (fit.low, fit.high, fit.low + INTERIOR * (fit.high - fit.low)):
            try:
                build(data, (fit.path,), (value,), str(scenario.source or scenario.name))
            except InputError as exc:
                message = f"{exc.message} (at {fit.format(value, 3)})"
                if "whole number" in exc.message or "integer" in exc.message:
                    message = (
                        "is a whole number (a count or a length of time): it shapes the market, which every run "
                        "of a calibration shares; fit a continuous parameter instead"
                    )
                raise InputError(message, source="--fit", field=fit.path) from None
    return tuple(fits)


@dataclass
class Calibration:
    """Everything a calibration needs: the scenario, the observed series, what to fit and how much to run."""

    scenario: Scenario
    observed: Observed
    fits: tuple[Fit, ...]
    replicates: int = 1
    budget: int = 5_000
    population: int = 0  # 0: chosen from the budget
    seed: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.data:
            self.data = scenario_data(self.scenario)
        if not self.population:
            self.population = auto_population(self.budget, self.replicates)
        if not 1 <= self.replicates <= MAX_REPLICATES:
            raise InputError(f"must be between 1 and {MAX_REPLICATES}, got {self.replicates}", source="--replicates")
        if self.budget > MAX_BUDGET:
            raise InputError(f"at most {MAX_BUDGET:,} runs, got {self.budget:,}", source="--budget")
        least = 3 * self.population * self.replicates
        if self.budget < least:
            raise InputError(
                f"{self.budget:,} runs cannot fill the first populations of {self.population} particles x "
                f"{self.replicates} replicate(s); give at least {least:,}",
                source="--budget",
            )
        self.observed.check_horizon(self.scenario.periods)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fits)

    @property
    def proposals(self) -> int:
        """Parameter sets the budget pays for (each simulated over ``replicates`` seeds)."""
        return self.budget // self.replicates

    def scenario_at(self, values: typing.Sequence[float]) -> Scenario:
        """The scenario at one set of fitted values."""
        return build(self.data, self.paths, values, f"{self.scenario.source or self.scenario.name} (calibrated)")

    def fingerprint(self) -> str:
        """What makes two calibrations the same (not the budget: a resumed one may go further)."""
        what = {
            "scenario": yaml.safe_dump(self.data, sort_keys=True),
            "observed": {
                "series": list(self.observed.series),
                "periods": self.observed.periods.tolist(),
                "values": [[None if v != v else float(v) for v in row] for row in self.observed.values.tolist()],
            },
            "fits": [[f.path, f.low, f.high] for f in self.fits],
            "replicates": self.replicates,
            "population": self.population,
            "seed": self.seed,
            "procsim": __version__,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def auto_population(budget: int, replicates: int) -> int:
    """Particles per population: about a fifteenth of the proposals the budget pays for, 40 to 400."""
    return int(min(max(budget // (15 * replicates), 40), 400))
