"""``procsim analyze``: a sweep folder's phase diagram, tipping point, sensitivity, ranking and discovery.

Everything is read back from the folder (``sweep.json`` and ``runs.parquet``), so an
analysis can be redone at any time; what each part needs from the design (two numeric
parameters, a sobol/morris sample, a tipping spec) is checked, and a part that does not
apply says why in the report instead of failing. Figures and tables go to ``analysis/``
and into one self-contained ``analysis.html``.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InputError
from ..outputs import atomic_write_text, clean_stale, save_figure, to_json
from ..report import OUTCOME_COLORS, _img, page
from . import store
from .discovery import Box, DiscoveryUnavailable, discover
from .phase import PhaseDiagram, phase_diagram, phase_figure
from .ranking import marginal_means, ranking
from .runner import make_executor
from .sensitivity import SensitivityUnavailable, sensitivity, sensitivity_figure
from .spec import MAX_BISECTIONS, OUTCOME_NAMES, Sweep, sweep_from_manifest
from .tipping import TippingPoint, find_tipping, tipping_figure

if TYPE_CHECKING:
    from ..resources import Estimate

Log = Callable[[str], None]


@dataclass
class Analysis:
    """The results of ``analyze``: each part, or the reason it does not apply, and the report's path."""

    folder: Path
    html: Path
    runs: pd.DataFrame
    phase: PhaseDiagram | None = None
    tipping: TippingPoint | None = None
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)
    ranking: pd.DataFrame | None = None
    marginals: dict[str, pd.DataFrame] = field(default_factory=dict)
    discovery: Box | None = None
    notes: dict[str, str] = field(default_factory=dict)


def analyze(
    folder: str | Path, *, workers: int | None = None, tipping: bool = True, log: Log | None = None
) -> Analysis:
    """Analyse a finished sweep folder and write ``analysis.html`` (and ``analysis/``) into it."""
    folder = Path(folder)
    manifest = store.read_manifest(folder)
    runs = store.read_runs(folder, manifest)
    sweep = sweep_from_manifest(manifest)
    store.clean_partials(folder)
    clean_stale(folder)
    columns: dict[str, str] = manifest["parameters"]
    spec = sweep.spec.analysis
    say = log or (lambda _msg: None)
    result = Analysis(folder, folder / "analysis.html", runs)
    staging = Path(tempfile.mkdtemp(prefix=".analysis.partial-", dir=folder))
    figures: dict[str, Path] = {}
    try:
        _phase(result, sweep, columns, staging, figures, say)
        if spec.tipping is None:
            result.notes["tipping"] = "no analysis.tipping in the sweep file"
        elif not tipping:
            result.notes["tipping"] = "skipped (--no-tipping)"
        else:
            say(f"tipping point of {spec.tipping.parameter} ({spec.tipping.replicates} replicates per value)")
            with make_executor(workers) as (executor, _slots):
                result.tipping = find_tipping(sweep, spec.tipping, executor, say)
            result.tipping.evaluations.to_csv(staging / "tipping.csv", index=False, lineterminator="\n")
            save_figure(tipping_figure(result.tipping, spec.tipping.parameter), staging / "tipping.png")
            figures["tipping"] = staging / "tipping.png"
        _sensitivity(result, sweep, staging, figures)
        _ranking(result, sweep, columns, staging)
        _discovery(result, sweep, columns, staging, say)
        atomic_write_text(staging / "analysis.json", to_json(_summary(result)))
        final = folder / "analysis"
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    figures = {k: final / v.name for k, v in figures.items()}
    atomic_write_text(result.html, render(result, sweep, manifest, figures))
    return result


def tipping_estimate(folder: str | Path, workers: int | None) -> Estimate | None:
    """How big the tipping-point search of a sweep folder is (None when the sweep has none)."""
    import copy
    import math

    from .. import resources
    from ..scenario import build_scenario

    manifest = store.read_manifest(Path(folder))
    sweep = sweep_from_manifest(manifest)
    spec = sweep.spec.analysis.tipping
    if spec is None:
        return None
    steps = min(MAX_BISECTIONS, max(math.ceil(math.log2((spec.high - spec.low) / spec.tolerance)), 0))
    scenario = build_scenario(copy.deepcopy(sweep.base), source=sweep.source)
    runs = spec.replicates * (2 + steps)
    return resources.for_evaluations(scenario, runs, workers or os.cpu_count() or 1, "tipping-point search")


def _phase(
    result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path, figures: dict[str, Path], say: Log
) -> None:
    spec = sweep.spec.analysis.phase
    numeric = [p for p in sweep.parameters if pd.api.types.is_numeric_dtype(result.runs[columns[p]])]
    if spec is None and len(numeric) >= 2:
        x, y, metric = numeric[0], numeric[1], "capability_index_final"
    elif spec is not None:
        x, y, metric = spec.x, spec.y, spec.metric
    else:
        result.notes["phase"] = "needs two numeric swept parameters"
        return
    for axis, path in (("x", x), ("y", y)):
        if path not in columns:
            raise InputError(
                f"{path} is not a swept parameter (swept: {', '.join(columns)})",
                source=sweep.source,
                field=f"analysis.phase.{axis}",
            )
    if metric not in result.runs:
        raise InputError(f"unknown metric {metric!r}", source=sweep.source, field="analysis.phase.metric")
    say(f"phase diagram: {x} x {y}")
    result.phase = phase_diagram(result.runs, columns[x], columns[y], metric, spec.regime if spec else "outlook")
    result.phase.table.to_csv(staging / "phase.csv", index=False, lineterminator="\n")
    labels = {columns[x]: x, columns[y]: y}
    save_figure(phase_figure(result.phase, labels), staging / "phase.png")
    figures["phase"] = staging / "phase.png"


def _sensitivity(result: Analysis, sweep: Sweep, staging: Path, figures: dict[str, Path]) -> None:
    for metric in sweep.spec.analysis.sensitivity:
        if metric not in result.runs:
            result.notes[f"sensitivity {metric}"] = "not a metric of these runs"
            continue
        try:
            table = sensitivity(sweep, result.runs, metric)
        except SensitivityUnavailable as exc:
            result.notes["sensitivity"] = str(exc)
            continue
        result.sensitivity[metric] = table
        table.to_csv(staging / f"sensitivity_{metric}.csv", index=False, lineterminator="\n")
    if result.sensitivity:
        save_figure(sensitivity_figure(result.sensitivity), staging / "sensitivity.png")
        figures["sensitivity"] = staging / "sensitivity.png"


def _ranking(result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path) -> None:
    rank_by = [m for m in sweep.spec.analysis.rank_by if m in result.runs]
    if sweep.spec.design.kind in ("lhs", "sobol", "morris") or not rank_by:
        result.notes["ranking"] = "ranks the points of grid and scenarios designs"
        return
    params = [columns[p] for p in sweep.parameters]
    result.ranking = ranking(result.runs, params, rank_by)
    result.ranking.to_csv(staging / "ranking.csv", index=False, lineterminator="\n")
    for column in params:
        if result.runs[column].nunique() > 1:
            result.marginals[column] = marginal_means(result.runs, column, rank_by)


def _discovery(result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path, say: Log) -> None:
    spec = sweep.spec.analysis.discovery
    if spec is None:
        result.notes["discovery"] = "no analysis.discovery in the sweep file"
        return
    say(f"scenario discovery (PRIM) on {spec.outcome}")
    try:
        result.discovery = discover(
            result.runs, [columns[p] for p in sweep.parameters], spec.outcome, spec.threshold, staging
        )
    except DiscoveryUnavailable as exc:
        result.notes["discovery"] = str(exc)


def _summary(result: Analysis) -> dict[str, Any]:
    """analysis.json: the headline numbers, for scripts."""
    tip = result.tipping
    return {
        "runs": len(result.runs),
        "tipping": None
        if tip is None
        else {
            "parameter": tip.parameter,
            "found": tip.found,
            "bracket": list(tip.bracket),
            "estimate": tip.estimate,
            "ci95": list(tip.ci) if tip.ci else None,
            "message": tip.message,
        },
        "sensitivity": {m: t.to_dict(orient="records") for m, t in result.sensitivity.items()},
        "discovery": None
        if result.discovery is None
        else {
            "outcome": result.discovery.outcome,
            "coverage": result.discovery.coverage,
            "density": result.discovery.density,
            "box": result.discovery.limits.to_dict(orient="records"),
        },
        "notes": result.notes,
    }


# ---------------------------------------------------------------------------- the page


def _table(frame: pd.DataFrame, digits: int = 3, limit: int = 60) -> str:
    shown = frame.head(limit)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(_cell(v, digits) for v in row) + "</tr>" for row in shown.itertuples(index=False))
    more = f"<p class='sub'>first {limit} of {len(frame)} rows; all in the CSV</p>" if len(frame) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, float):
        text = "" if pd.isna(value) else f"{value:,.{digits}f}" if abs(value) < 1e4 else f"{value:,.0f}"
        return f"<td class='num'>{text}</td>"
    if isinstance(value, int):
        return f"<td class='num'>{value}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _note(result: Analysis, key: str) -> str:
    return f"<p class='sub'>Not shown: {html.escape(result.notes[key])}.</p>" if key in result.notes else ""


def render(result: Analysis, sweep: Sweep, manifest: dict[str, Any], figures: dict[str, Path]) -> str:
    """The self-contained analysis page (figures embedded)."""
    runs = result.runs
    counts = runs["outcome"].value_counts()
    failed = int((runs["status"] == "failed").sum())
    badges = " ".join(
        f"<span class='badge' style='background:{OUTCOME_COLORS[o]}'>{o}: {int(counts.get(o, 0))}</span>"
        for o in OUTCOME_NAMES
    )
    parts = [
        f"<h1>Sweep {html.escape(sweep.name)}</h1><p class='sub'>{html.escape(sweep.spec.description)}</p>",
        (
            f"<p>{len(runs)} runs over {len(sweep.points)} design points ({html.escape(sweep.spec.design.kind)}), "
            f"{len(sweep.seeds)} seed(s) each; {failed} failed. Base scenario: "
            f"{html.escape(str(sweep.spec.base))}. Swept: {html.escape(', '.join(sweep.parameters))}.</p>"
        ),
        badges,
    ]
    parts.append("<h2>Phase diagram</h2>")
    if result.phase is not None:
        parts.append(
            f"<p>Share of each outcome per cell, and the mean {html.escape(result.phase.metric)}. The dashed "
            "line is the tipping boundary: on its far side at least half of the runs spiral or collapse.</p>"
        )
        parts.append(_img(figures["phase"], "phase diagram"))
    parts.append(_note(result, "phase"))
    parts.append("<h2>Tipping point</h2>")
    tip = result.tipping
    if tip is not None:
        if tip.found:
            parts.append(
                f"<p><b>{html.escape(tip.parameter)}</b> tips the outcome at <b>{tip.estimate:.4g}</b> "
                f"(95% CI {tip.ci[0]:.4g} to {tip.ci[1]:.4g}; bisection bracket {tip.bracket[0]:.4g} to "
                f"{tip.bracket[1]:.4g}; {len(tip.evaluations)} runs).</p>"
            )
        else:
            parts.append(f"<p>{html.escape(tip.message)}.</p>")
        parts.append(_img(figures["tipping"], "tipping point"))
        parts.append(_table(tip.shares(), 3))
    parts.append(_note(result, "tipping"))
    parts.append("<h2>Sensitivity</h2>")
    if result.sensitivity:
        parts.append(
            "<p>Indices of each lever for each metric, each design point averaged over its seeds first; "
            "intervals are 95% bootstrap confidence intervals (SALib).</p>"
        )
        parts.append(_img(figures["sensitivity"], "sensitivity indices"))
        for metric, table in result.sensitivity.items():
            parts.append(f"<h3>{html.escape(metric)}</h3>" + _table(table, 3))
    parts.append(_note(result, "sensitivity"))
    parts.append("<h2>Ranking</h2>")
    if result.ranking is not None:
        parts.append(
            "<p>Design points ranked by each metric (mean over seeds; ci95 is the half-width of the "
            "95% interval of the mean).</p>" + _table(result.ranking.drop(columns=["point"]), 2)
        )
        for column, table in result.marginals.items():
            parts.append(f"<h3>By {html.escape(column)} (averaged over everything else)</h3>" + _table(table, 2))
    parts.append(_note(result, "ranking"))
    parts.append("<h2>Scenario discovery (PRIM)</h2>")
    box = result.discovery
    if box is not None:
        parts.append(
            f"<p>The box below holds {box.coverage:.0%} of all <b>{box.outcome}</b> runs, and "
            f"{box.density:.0%} of the runs inside it end in {box.outcome} ({box.mass:.0%} of all runs). "
            f"The runs are exported for the EMA Workbench in <code>analysis/{box.export.name}</code> "
            "(<code>ema_workbench.load_results</code>).</p>" + _table(box.limits, 4)
        )
    parts.append(_note(result, "discovery"))
    environment = manifest.get("environment") if isinstance(manifest.get("environment"), dict) else {}
    footer = (
        f"procsim {html.escape(str(environment.get('procsim')))} &middot; sweep fingerprint "
        f"{html.escape(str(manifest['fingerprint'])[:12])} &middot; tables as CSV in analysis/"
    )
    return page(f"{sweep.name} analysis", "".join(parts), footer)
