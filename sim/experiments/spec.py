"""Sweep files: a base scenario, a design over dotted parameters, replicates and outputs.

A design is a grid (full factorial of values or ranges), a list of named what-if
scenarios, or a sample over bounds (Latin hypercube, Sobol/Saltelli, Morris). ``grid``
and ``scenarios`` may be combined (every scenario at every grid point). Every design
point is validated against the base scenario before anything runs, so a bad sweep file
fails at once with the file and the field named.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import InputError, excerpt
from sim.inputs.loading import _display_path, _load_raw, allowed_roots, build_scenario, resolve_reference
from sim.inputs.overrides import _apply_override
from sim.inputs.schema import Scenario
from sim.inputs.validation import _translate
from sim.inputs.values import Int, _suggest
from sim.inputs.yamlio import load_mapping

SWEEP_FOLDER = Path(__file__).resolve().parents[2] / "scenarios" / "sweeps"
OUTCOME_NAMES = ("collapse", "spiral", "equilibrium", "growth", "drifting")
Outcome = Literal["collapse", "spiral", "equilibrium", "growth", "drifting"]
# Which verdict a phase diagram or tipping point reads: at the horizon, or the outlook past it.
Regime = Literal["horizon", "outlook"]
MINIMAL_SWEEP = "'base: baseline' and 'design: {grid: {suppliers.margin_defense: [0.0, 0.5, 1.0]}}'"
# Validation caps (documented in docs/experiments.md): checked from the design's size before
# any point is built, so a huge grid is refused at once instead of exhausting memory.
MAX_POINTS = 100_000
MAX_RUNS = 5_000_000
MAX_BISECTIONS = 40  # hard cap on the tipping-point search's steps, whatever the tolerance
TOLERANCE_FLOOR = 1e-6  # smallest tipping tolerance, as a share of high - low
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SWEEP_KEYS = frozenset({"base", "design"})  # a scenario has neither: they tell a sweep file from a scenario
TIPPED_SHARE = "tipped_share"  # a derived metric: the share of a setting's runs that spiral or collapse
# The scalar metrics of a run (sim.engine.outcomes.metrics, less its lists and text), checked against a
# real runs table by tests/test_experiments.py so the two cannot drift apart.
RUN_METRICS = (
    "outlook_period",
    "capability_index_final",
    "capability_index_min",
    "discount_final",
    "discount_max",
    "supplier_margin_final",
    "supplier_profit_total",
    "supplier_cash_final",
    "customer_value_total",
    "supplier_value_total",
    "joint_value_total",
    "joint_value_change",
    "engagement_value_total",
    "overhead_fixed_total",
    "investment_total",
    "investment_sustaining_total",
    "capability_depletion_total",
    "balance_final",
    "retention_rate",
    "customers_final",
    "switches_total",
    "relationships_ended",
    "accounts_dropped",
    "accounts_noticed",
    "suppliers_exited",
    "redesign_and_switching_cost_total",
    "time_to_collapse",
    "spiral_onset",
    "break_even_volume_increase",
    "lifetime_value",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(Strict):
    """Evenly spaced values from ``from`` to ``to`` inclusive."""

    start: float = Field(alias="from")
    stop: float = Field(alias="to")
    steps: Int = Field(ge=2, le=1000)

    def values(self) -> list[float]:
        return [round(float(v), 12) for v in np.linspace(self.start, self.stop, self.steps)]


class WhatIf(Strict):
    """One named point of a ``scenarios:`` design."""

    name: str
    set: dict[str, Any] = Field(default_factory=dict)


class Sample(Strict):
    """A sampled design over numeric bounds ``{path: [low, high]}``."""

    bounds: dict[str, tuple[float, float]]
    samples: Int = Field(
        64, ge=2, le=1_000_000, description="LHS: points; Sobol: base samples N; Morris: trajectories."
    )
    levels: Int = Field(4, ge=2, le=100, description="Morris grid levels.")
    second_order: bool = False
    seed: Int = Field(0, ge=0, le=2**32 - 1)

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, bounds: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        if not bounds:
            raise ValueError("give at least one parameter with [low, high]")
        for path, (lo, hi) in bounds.items():
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"{path}: low must be below high (finite numbers), got [{lo}, {hi}]")
        return bounds


class Design(Strict):
    grid: dict[str, list[Any] | Range] | None = None
    scenarios: list[WhatIf] | None = None
    lhs: Sample | None = None
    sobol: Sample | None = None
    morris: Sample | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Design:
        sampled = [k for k in ("lhs", "sobol", "morris") if getattr(self, k) is not None]
        if len(sampled) > 1 or (sampled and (self.grid or self.scenarios)):
            raise ValueError("use one sampled design (lhs, sobol or morris) on its own; grid and scenarios may combine")
        if not sampled and not self.grid and not self.scenarios:
            raise ValueError("give a design: grid, scenarios, lhs, sobol or morris")
        if self.grid:
            for path, values in self.grid.items():
                if isinstance(values, list) and not values:
                    raise ValueError(f"grid.{path}: give at least one value")
        if self.scenarios:
            names = [s.name for s in self.scenarios]
            if len(set(names)) != len(names):
                raise ValueError("scenarios: names must be unique")
        return self

    @property
    def kind(self) -> str:
        for k in ("lhs", "sobol", "morris"):
            if getattr(self, k) is not None:
                return k
        return "grid" if not self.scenarios else ("scenarios" if not self.grid else "scenarios x grid")


class Outputs(Strict):
    series: Literal["every", "every_k", "final", "none"] = Field(
        "every_k",
        description="Per-period market series kept per run: every period, every k-th, the final one, or none.",
    )
    every: Int = Field(4, ge=1, le=10_000, description="k for series: every_k.")


class PhaseSpec(Strict):
    x: str
    y: str
    metric: str = "capability_index_final"
    regime: Regime = Field("outlook", description="Outcomes at the horizon or in the outlook (the long run).")


class TippingSpec(Strict):
    parameter: str
    low: float
    high: float
    replicates: Int = Field(20, ge=2, le=10_000)
    tolerance: float = Field(0.005, gt=0, description="Bisection stops when the bracket is this narrow.")
    regime: Regime = Field("outlook", description="Outcomes at the horizon or in the outlook (the long run).")
    outcomes: list[Outcome] = Field(
        default_factory=lambda: ["spiral", "collapse"], description="Outcomes that count as tipped."
    )
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides for the search.")

    @model_validator(mode="after")
    def _range(self) -> TippingSpec:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"low must be below high (finite numbers), got [{self.low}, {self.high}]")
        floor = TOLERANCE_FLOOR * (self.high - self.low)
        if not self.tolerance >= floor:
            raise ValueError(
                f"tolerance: at least {floor:.3g} (a millionth of high - low), got {self.tolerance:.3g}; "
                "the search would only chase the noise between replicates"
            )
        return self


class DiscoverySpec(Strict):
    outcome: Outcome = "spiral"
    threshold: float = Field(0.8, gt=0, le=1, description="Minimum density of the PRIM box.")


class Threshold(Strict):
    """What a lever setting must reach in a market to satisfy: a metric's mean over seeds, at least or at most."""

    metric: str = Field(description=f"A run metric, or {TIPPED_SHARE} (the share of runs that spiral or collapse).")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Threshold:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give at_least or at_most (one of them)")
        bound = self.at_least if self.at_least is not None else self.at_most
        if not math.isfinite(bound):
            raise ValueError(f"the bound must be a finite number, got {bound}")
        return self


class RobustnessSpec(Strict):
    """Each lever setting across the uncertainties: regret against the best setting in each market, and the
    share of markets where it satisfies ``threshold``."""

    metric: str = Field("joint_value_total", description="The metric whose regret is measured.")
    goal: Literal["max", "min"] = Field("max", description="Whether more (max) or less (min) of it is better.")
    threshold: Threshold = Field(
        default_factory=lambda: Threshold(metric=TIPPED_SHARE, at_most=0.5),
        description="What a lever setting must reach in a market to satisfy (default: at most half its runs tip).",
    )
    regime: Regime = Field("outlook", description="Outcomes at the horizon or in the outlook, for tipped_share.")


class EnvelopeSpec(Strict):
    """Median and 10-90% bands of market series over time, by outcome, design point or a swept parameter."""

    series: list[str] = Field(default_factory=lambda: ["capability_index", "discount_mean"], min_length=1, max_length=6)
    by: str = Field("outcome", description="outcome, point, or a swept parameter path.")
    points: list[Int] | None = Field(None, max_length=12, description="With by: point, the design points to draw.")
    regime: Regime = Field("outlook", description="With by: outcome, the outcome at the horizon or in the outlook.")


class AnalysisSpec(Strict):
    phase: PhaseSpec | None = None
    tipping: TippingSpec | None = None
    sensitivity: list[str] = Field(default_factory=lambda: ["joint_value_total", "capability_index_final"])
    rank_by: list[str] = Field(
        default_factory=lambda: ["joint_value_total", "supplier_profit_total", "customer_value_total"]
    )
    discovery: DiscoverySpec | None = None
    robustness: RobustnessSpec | None = None
    envelopes: EnvelopeSpec | None = None


class SweepFile(Strict):
    name: str = ""
    description: str = ""
    base: str = Field(description="Scenario the design varies (bundled name or path).")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every run.")
    design: Design
    replicates: Int = Field(1, ge=1, le=100_000)
    seed: Int = Field(0, ge=0, le=2**32 - 1)
    chunk_size: Int = Field(25, ge=1, le=100_000, description="Runs per chunk file (seeds of one point).")
    batch: Annotated[Int, Field(ge=1, le=100_000)] | Literal["auto"] = Field(
        "auto",
        description="Runs a worker simulates together as one vectorised ensemble (whole chunks; results are "
        "the same whatever the batch); auto: by market size.",
    )
    outputs: Outputs = Field(default_factory=Outputs)
    levers: list[str] = Field(
        default_factory=list, description="Swept parameters that are choices (the supplier's, procurement's)."
    )
    uncertainties: list[str] = Field(
        default_factory=list, description="Swept parameters that are the market, which nobody chooses."
    )
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not NAME.fullmatch(name):
            raise ValueError(
                f"a sweep name is 1-100 letters, digits, '.', '_' or '-' (it names the output folder), "
                f"got {excerpt(name)}"
            )
        return name


@dataclass(frozen=True)
class Point:
    """One design point: its id, an optional label and the overrides it applies."""

    id: int
    label: str
    params: dict[str, Any]


@dataclass
class Sweep:
    """A validated sweep: the spec, its base scenario data and every design point."""

    spec: SweepFile
    source: str
    base: dict[str, Any]  # the base scenario as written (extends merged) with the sweep's fixed overrides
    points: list[Point]
    seeds: list[int]
    parameters: list[str]  # swept parameter paths, in design order
    sample_matrix: np.ndarray | None = None  # for sobol/morris: the sampled matrix, in point order

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def total_runs(self) -> int:
        return len(self.points) * len(self.seeds)

    def chunks(self) -> list[tuple[int, int, list[int]]]:
        """(point id, block number, replicate indices): seeds of a point in blocks of ``chunk_size``."""
        size = self.spec.chunk_size
        blocks = [list(range(i, min(i + size, len(self.seeds)))) for i in range(0, len(self.seeds), size)]
        return [(p.id, b, reps) for p in self.points for b, reps in enumerate(blocks)]

    def scenario(self, point: Point) -> Scenario:
        """The scenario of one design point (already validated when the sweep loaded)."""
        raw = copy.deepcopy(self.base)
        for path, value in point.params.items():
            _apply_override(raw, path, value)
        return build_scenario(raw, source=f"{self.source} point {point.id}")

    def fingerprint(self) -> str:
        """A hash of everything that determines the results (for --resume checks)."""
        resolved = build_scenario(copy.deepcopy(self.base), source=self.source).to_yaml_dict()  # code defaults too
        data = {
            "spec": self.spec.model_dump(mode="json", by_alias=True, exclude={"batch"}),  # batching changes no result
            "base": resolved,
            "points": [(p.id, p.label, p.params) for p in self.points],
            "seeds": self.seeds,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def find_sweep(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path.resolve()
    for candidate in (
        Path.cwd() / "scenarios" / "sweeps" / f"{name_or_path}.yaml",
        SWEEP_FOLDER / f"{name_or_path}.yaml",
    ):
        if candidate.is_file():
            return candidate.resolve()
    known = sorted(p.stem for p in SWEEP_FOLDER.glob("*.yaml")) if SWEEP_FOLDER.is_dir() else []
    raise InputError(
        f"no sweep file or bundled sweep named {excerpt(str(name_or_path))}"
        + (f"; bundled: {', '.join(known)}" if known else ""),
        source=str(name_or_path),
    )


def sweep_file(name_or_path: str | Path) -> Path | None:
    """The sweep file a name on the command line means, or None when it means a scenario.

    A file is a sweep file when its keys are a sweep's (``base:``, ``design:``); a name that is
    no scenario's is looked up among the sweeps (``./scenarios/sweeps``, the bundled ones).
    A file that cannot be read is left to the scenario loader, which says why.
    """
    from sim.inputs.loading import find_scenario

    path = Path(name_or_path)
    if not path.is_file():
        try:
            find_scenario(name_or_path)
            return None
        except InputError:
            try:
                return find_sweep(name_or_path)
            except InputError:
                return None
    try:
        raw = load_mapping(path, what="sweep", minimal=MINIMAL_SWEEP)
    except InputError:
        return None
    return path.resolve() if SWEEP_KEYS & set(raw) else None


def design_size(design: Design) -> int:
    """How many points a design has, computed without building them."""
    if design.kind in ("lhs", "sobol", "morris"):
        sample = getattr(design, design.kind)
        d = len(sample.bounds)
        per = {"lhs": 1, "sobol": (2 * d + 2) if sample.second_order else (d + 2), "morris": d + 1}[design.kind]
        return sample.samples * per
    grid = math.prod(v.steps if isinstance(v, Range) else len(v) for v in (design.grid or {}).values())
    return grid * max(len(design.scenarios or []), 1)


def _check_size(spec: SweepFile, source: str) -> None:
    points = design_size(spec.design)
    if points > MAX_POINTS:
        raise InputError(
            f"the design has {points:,} points; at most {MAX_POINTS:,} (split the sweep, or sample with lhs)",
            source=source,
            field="design",
        )
    if points * spec.replicates > MAX_RUNS:
        raise InputError(
            f"{points:,} points x {spec.replicates:,} replicates = {points * spec.replicates:,} runs; "
            f"at most {MAX_RUNS:,} runs in one sweep",
            source=source,
            field="replicates",
        )


def load_sweep(name_or_path: str | Path) -> Sweep:
    """Read and validate a sweep file, expanding and checking every design point."""
    path = find_sweep(name_or_path)
    source = str(_display_path(path))
    raw = load_mapping(path, what="sweep", minimal=MINIMAL_SWEEP, source=source)
    raw.setdefault("name", re.sub(r"[^A-Za-z0-9._-]", "_", path.stem).lstrip("._")[:100] or "sweep")
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        problems = _translate(exc, SweepFile, "")
        # a misspelt key also leaves its field missing: name the typo, which says what to fix
        field, msg = next((p for p in problems if p[1].startswith("unknown field")), problems[0])
        raise InputError(msg, source=source, field=field) from None
    _check_size(spec, source)
    roots = allowed_roots(path)
    base_path = resolve_reference(spec.base, path, roots, field="base")
    base = _load_raw(base_path, roots=roots)
    for key, value in spec.set.items():
        _apply_override(base, key, value)
    try:
        # Validate, but keep the raw mapping: a style set by a design point must fill the
        # levers the base left blank, as `procsim run --set` does.
        build_scenario(copy.deepcopy(base), source=str(base_path))
    except InputError as exc:
        raise InputError(exc.message, source=source, field=f"set.{exc.field}" if exc.field else "set") from None
    from sim.runs.runner import replicate_seeds

    points, parameters, matrix = expand(spec.design)
    sweep = Sweep(spec, source, base, points, replicate_seeds(spec.seed, spec.replicates), parameters, matrix)
    _check_points(sweep)
    if spec.analysis.tipping is not None:
        tip = spec.analysis.tipping
        for end in (tip.low, tip.high):
            _check_paths(sweep, {**tip.set, tip.parameter: end}, "analysis.tipping")
    check_plan(sweep)
    return sweep


def _known(name: str, known: list[str] | tuple[str, ...], what: str, source: str, field: str) -> None:
    """Refuse a name that is not among ``known``, with a suggestion for a typo."""
    if name not in known:
        hint = _suggest(name, known)
        raise InputError(
            f"unknown {what} {excerpt(name)}{hint or '; known: ' + ', '.join(known)}", source=source, field=field
        )


def check_plan(sweep: Sweep) -> None:
    """Check what the analysis will read against the design: parameters that are swept, metrics and series
    that exist, levers and uncertainties that split the swept parameters between them."""
    from sim.engine.series import MARKET_SERIES

    spec, source = sweep.spec, sweep.source
    analysis, swept = spec.analysis, sweep.parameters
    metrics = list(RUN_METRICS)
    if analysis.phase is not None:
        for axis in ("x", "y"):
            _known(getattr(analysis.phase, axis), swept, "swept parameter", source, f"analysis.phase.{axis}")
        if analysis.phase.x == analysis.phase.y:
            raise InputError("x and y must be two different parameters", source=source, field="analysis.phase.y")
        _known(analysis.phase.metric, metrics, "metric", source, "analysis.phase.metric")
    for key in ("sensitivity", "rank_by"):
        for i, metric in enumerate(getattr(analysis, key)):
            _known(metric, metrics, "metric", source, f"analysis.{key}.{i}")
    if analysis.envelopes is not None:
        env = analysis.envelopes
        for i, name in enumerate(env.series):
            _known(name, list(MARKET_SERIES), "market series", source, f"analysis.envelopes.series.{i}")
        _known(
            env.by,
            ["outcome", "point", *swept],
            "grouping (outcome, point or a swept parameter)",
            source,
            "analysis.envelopes.by",
        )
        for i, point in enumerate(env.points or []):
            if not 0 <= point < len(sweep.points):
                raise InputError(
                    f"design point {point} does not exist (0 to {len(sweep.points) - 1})",
                    source=source,
                    field=f"analysis.envelopes.points.{i}",
                )
        if spec.outputs.series in ("none", "final"):
            raise InputError(
                f"envelopes need series over time, but outputs.series is {spec.outputs.series}; "
                "keep them with outputs: {series: every_k}",
                source=source,
                field="analysis.envelopes",
            )
    _check_levers(sweep, metrics)


def _check_levers(sweep: Sweep, metrics: list[str]) -> None:
    spec, source, swept = sweep.spec, sweep.source, sweep.parameters
    for key in ("levers", "uncertainties"):
        for i, path in enumerate(getattr(spec, key)):
            _known(path, swept, "swept parameter", source, f"{key}.{i}")
    both = set(spec.levers) & set(spec.uncertainties)
    if both:
        raise InputError(
            f"{excerpt(sorted(both)[0])} is both a lever and an uncertainty; a parameter is one or the other",
            source=source,
            field="uncertainties",
        )
    robustness = spec.analysis.robustness
    if not spec.levers and not spec.uncertainties:
        if robustness is not None:
            raise InputError(
                "needs the sweep's levers and uncertainties (top-level levers: [...] and uncertainties: [...])",
                source=source,
                field="analysis.robustness",
            )
        return
    for key in ("levers", "uncertainties"):
        if not getattr(spec, key):
            raise InputError(
                "give both levers and uncertainties (each a list of swept parameters)", source=source, field=key
            )
    loose = [p for p in swept if p not in spec.levers and p not in spec.uncertainties]
    if loose:
        raise InputError(
            f"{excerpt(loose[0])} is swept but neither a lever nor an uncertainty; add it to one of the two lists",
            source=source,
            field="uncertainties",
        )
    if spec.design.kind in ("lhs", "sobol", "morris"):
        raise InputError(
            f"levers and uncertainties need a grid or scenarios design (every lever setting in every market), "
            f"not {spec.design.kind}",
            source=source,
            field="design",
        )
    for i, whatif in enumerate(spec.design.scenarios or []):
        if set(whatif.set) & set(spec.levers) and set(whatif.set) & set(spec.uncertainties):
            raise InputError(
                "a what-if sets both levers and uncertainties; each names a lever setting or a market, not both",
                source=source,
                field=f"design.scenarios.{i}",
            )
    if robustness is not None:
        _known(robustness.metric, metrics, "metric", source, "analysis.robustness.metric")
        _known(
            robustness.threshold.metric,
            [*metrics, TIPPED_SHARE],
            "metric",
            source,
            "analysis.robustness.threshold.metric",
        )


def expand(design: Design) -> tuple[list[Point], list[str], np.ndarray | None]:
    """All design points in a fixed order, the swept parameters, and a sample matrix if sampled."""
    if design.kind in ("lhs", "sobol", "morris"):
        sample = getattr(design, design.kind)
        names = list(sample.bounds)
        matrix = _sample(design.kind, sample)
        points = [Point(i, "", {n: float(v) for n, v in zip(names, row, strict=True)}) for i, row in enumerate(matrix)]
        return points, names, matrix
    grid = {
        path: (values.values() if isinstance(values, Range) else list(values))
        for path, values in (design.grid or {}).items()
    }
    whatifs = design.scenarios or [WhatIf(name="", set={})]
    points = []
    for whatif in whatifs:
        for combo in itertools.product(*grid.values()):
            params = {**whatif.set, **dict(zip(grid, combo, strict=True))}
            points.append(Point(len(points), whatif.name, params))
    parameters = list(dict.fromkeys([p for w in whatifs for p in w.set] + list(grid)))
    return points, parameters, None


def _sample(kind: str, sample: Sample) -> np.ndarray:
    names = list(sample.bounds)
    bounds = np.array([sample.bounds[n] for n in names], dtype=float)
    problem = {"num_vars": len(names), "names": names, "bounds": bounds.tolist()}
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=sample.seed).random(sample.samples)
        return qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    if kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, sample.samples, calc_second_order=sample.second_order, seed=sample.seed)
    from SALib.sample import morris

    return morris.sample(problem, sample.samples, num_levels=sample.levels, seed=sample.seed)


def _check_points(sweep: Sweep) -> None:
    """Validate every point against the base scenario; name the design field that is wrong."""
    seen: set[str] = set()
    for point in sweep.points:
        key = json.dumps(point.params, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            sweep.scenario(point)
        except InputError as exc:
            where = next(
                (p for p in point.params if exc.field and (exc.field == p or exc.field.endswith(p.split(".", 1)[-1]))),
                exc.field,
            )
            label = f" ({excerpt(point.label, 40)})" if point.label else ""
            raise InputError(
                f"{exc.message} (design point {point.id}{label}: {excerpt(point.params, 120)})",
                source=sweep.source,
                field=f"design.{where}",
            ) from None


def _check_paths(sweep: Sweep, params: dict[str, Any], field: str) -> None:
    try:
        sweep.scenario(Point(-1, "", params))
    except InputError as exc:
        raise InputError(exc.message, source=sweep.source, field=f"{field}.{exc.field}") from None


def resolved_yaml(sweep: Sweep) -> str:
    return yaml.safe_dump(sweep.spec.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=False)


def sweep_from_manifest(manifest: dict[str, Any]) -> Sweep:
    """The sweep a folder was run with, rebuilt from its sweep.json (the sweep file may have moved)."""
    try:
        spec = SweepFile.model_validate(yaml.safe_load(manifest["spec_yaml"]))
        points = [Point(int(p["id"]), str(p["label"]), dict(p["params"])) for p in manifest["points"]]
        _, parameters, matrix = expand(spec.design)
        return Sweep(
            spec,
            str(manifest["source"]),
            dict(manifest["base_scenario"]),
            points,
            [int(s) for s in manifest["seeds"]],
            list(manifest["parameters"]) or parameters,
            matrix,
        )
    except (KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError, ValidationError):
        raise InputError(
            "sweep.json is damaged (its sweep cannot be rebuilt); run the sweep again with --resume into this "
            "folder, which rebuilds it",
            source="sweep.json",
        ) from None
