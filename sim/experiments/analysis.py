"""``procsim analyze``: a sweep folder's phase diagram, tipping point, sensitivity, ranking and discovery.

Everything is read back from the folder (``sweep.json`` and ``runs.parquet``), so an
analysis can be redone at any time; what each part needs from the design (two numeric
parameters, a sobol/morris sample, a tipping spec) is checked, and a part that does not
apply says why in the report instead of failing. Figures and tables go to ``analysis/``
and into one self-contained ``analysis.html``.
"""

from __future__ import annotations

import contextlib
import copy
import html
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.engine.schedule import Schedule
from sim.errors import InputError
from sim.experiments import store
from sim.experiments.discovery import Box, DiscoveryUnavailable, discover
from sim.experiments.labels import Parameter, describe, format_metric, metric_name, outcome_words
from sim.experiments.phase import PhaseDiagram, phase_diagram, phase_figure, phase_panels, verdicts
from sim.experiments.ranking import marginal_means, ranking
from sim.experiments.runner import make_executor
from sim.experiments.sensitivity import SensitivityUnavailable, sensitivity, sensitivity_figure
from sim.experiments.spec import OUTCOME_NAMES, Sweep, sweep_from_manifest
from sim.experiments.tipping import TippingPoint, find_tipping, search_runs, tipping_figure
from sim.inputs.loading import build_scenario
from sim.reports.cells import spreadsheet_frame
from sim.reports.files import atomic_write_text, clean_stale, ready, staging_folder, to_json
from sim.reports.fmt import years
from sim.reports.pages import OUTCOME_COLORS, _img, page
from sim.reports.run_folder import save_figure

if TYPE_CHECKING:
    from sim.runs.resources import Estimate

Log = Callable[[str], None]
ProgressBar = Callable[[int, str], contextlib.AbstractContextManager[Callable[[int], None] | None]]


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
    parameters: dict[str, Parameter] = field(default_factory=dict)  # every swept path, as people read it
    currency: str = "EUR"
    phase_axes: tuple[str, str] | None = None
    phase_regime: str = "outlook"


def analyze(
    folder: str | Path,
    *,
    workers: int | None = None,
    tipping: bool = True,
    log: Log | None = None,
    progress: ProgressBar | None = None,
) -> Analysis:
    """Analyse a finished sweep folder and write ``analysis.html`` (and ``analysis/``) into it.

    ``progress(total, label)`` opens a progress bar (a context manager giving a function
    that advances it) for the parts that simulate: the tipping-point search.
    """
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
    base = _base_scenario(sweep)
    result.currency = base.currency if base is not None else "EUR"
    result.parameters = {path: describe(path, result.currency) for path in columns}
    if spec.tipping is not None:
        result.parameters.setdefault(spec.tipping.parameter, describe(spec.tipping.parameter, result.currency))
    staging = staging_folder(folder, "analysis")
    figures: dict[str, Path] = {}
    try:
        _phase(result, sweep, columns, staging, figures, say)
        if spec.tipping is None:
            result.notes["tipping"] = "no analysis.tipping in the sweep file"
        elif not tipping:
            result.notes["tipping"] = "skipped (--no-tipping)"
        else:
            say(f"tipping point of {spec.tipping.parameter} ({spec.tipping.replicates} replicates per value)")
            bar = progress or (lambda _total, _label: contextlib.nullcontext(None))
            with (
                make_executor(workers) as (executor, slots),
                bar(search_runs(spec.tipping), "tipping point") as tick,
            ):
                result.tipping = find_tipping(sweep, spec.tipping, executor, say, slots=slots, progress=tick)
            spreadsheet_frame(result.tipping.evaluations).to_csv(
                staging / "tipping.csv", index=False, lineterminator="\n"
            )
            parameter = result.parameters[spec.tipping.parameter]
            save_figure(tipping_figure(result.tipping, parameter), staging / "tipping.png")
            figures["tipping"] = staging / "tipping.png"
        _sensitivity(result, sweep, staging, figures)
        _ranking(result, sweep, columns, staging)
        _discovery(result, sweep, columns, staging, say)
        atomic_write_text(staging / "analysis.json", to_json(_summary(result, sweep)))
        ready(staging)  # its marker goes; the folder and its files get the user's usual permissions
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
    from sim.runs import resources

    manifest = store.read_manifest(Path(folder))
    sweep = sweep_from_manifest(manifest)
    spec = sweep.spec.analysis.tipping
    if spec is None:
        return None
    scenario = build_scenario(copy.deepcopy(sweep.base), source=sweep.source)
    return resources.for_evaluations(
        scenario, search_runs(spec), workers or os.cpu_count() or 1, "tipping-point search"
    )


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
    regime = spec.regime if spec else "outlook"
    result.phase = phase_diagram(result.runs, columns[x], columns[y], metric, regime)
    result.phase_axes, result.phase_regime = (x, y), regime
    spreadsheet_frame(result.phase.table).to_csv(staging / "phase.csv", index=False, lineterminator="\n")
    px, py = result.parameters[x], result.parameters[y]
    save_figure(phase_figure(result.phase, px, py, regime), staging / "phase.png")
    save_figure(phase_panels(result.phase, px, py, metric_name(metric)), staging / "phase_detail.png")
    figures["phase"] = staging / "phase.png"
    figures["phase_detail"] = staging / "phase_detail.png"


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
        spreadsheet_frame(table).to_csv(staging / f"sensitivity_{metric}.csv", index=False, lineterminator="\n")
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
    spreadsheet_frame(result.ranking).to_csv(staging / "ranking.csv", index=False, lineterminator="\n")
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


def _summary(result: Analysis, sweep: Sweep) -> dict[str, Any]:
    """analysis.json: the headline numbers, for scripts."""
    tip = result.tipping
    return {
        "runs": len(result.runs),
        "regime": regime_of(sweep),
        "tipping_sentence": tipping_sentence(result, sweep) if tip is not None else None,
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

PAGE_STYLE = """
body{max-width:1200px}
.wide{overflow-x:auto;max-width:100%;border:1px solid #e5e7eb;border-radius:.4rem;margin:.5rem 0}
.wide table{margin:0;font-size:.92rem}th{vertical-align:bottom;white-space:nowrap;background:#f9fafb}
details{margin:.8rem 0}summary{cursor:pointer;font-weight:600;padding:.3rem 0}
.regime{background:#f3f4f6;border-radius:.5rem;padding:.6rem 1rem;margin:.8rem 0}
.badges{margin:.3rem 0}.badges b{display:inline-block;min-width:13rem}.badge{margin:.15rem .1rem}
code{font-size:.85em;color:#4b5563}.wide td.num{white-space:nowrap}
"""  # added to the report's style, inside the page (its policy allows inline styles)


def regime_of(sweep: Sweep) -> str:
    """Which verdict the page reads: the tipping search's, else the phase diagram's, else the outlook."""
    spec = sweep.spec.analysis
    if spec.tipping is not None:
        return spec.tipping.regime
    return spec.phase.regime if spec.phase is not None else "outlook"


def _base_scenario(sweep: Sweep) -> Any:
    """The sweep's base scenario (with its fixed settings), or None if it no longer loads."""
    try:
        return build_scenario(copy.deepcopy(sweep.base), source=sweep.source)
    except InputError:
        return None


def _base_value(scenario: Any, path: str) -> Any:
    """A path's value in a scenario (the first group's where a section holds groups)."""
    value: Any = scenario
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        value = getattr(value, part, None)
        if value is None:
            return None
    if isinstance(value, Schedule):
        return value.initial
    return value if isinstance(value, int | float | str) else None


def _regime_words(regime: str, scenario: Any) -> str:
    if regime == "outlook":
        return "in the long run"
    if scenario is None:
        return "by the horizon"
    return f"by the horizon ({years(scenario.periods, scenario.periods_per_year)})"


def tipping_sentence(result: Analysis, sweep: Sweep) -> str:
    """The tipping point in one plain sentence, in the parameter's unit, with the settings it holds at."""
    tip, spec = result.tipping, sweep.spec.analysis.tipping
    if tip is None or spec is None:
        return ""
    param = result.parameters.get(spec.parameter) or describe(spec.parameter, result.currency)
    scenario = _base_scenario(sweep)
    what = outcome_words(list(spec.outcomes))
    when = _regime_words(spec.regime, scenario)
    fixed = {p: _base_value(scenario, p) for p in sweep.parameters if p != spec.parameter and scenario is not None}
    fixed.update(spec.set)
    held = [
        (result.parameters.get(p) or describe(p, result.currency)).with_value(v)
        for p, v in fixed.items()
        if v is not None and not isinstance(v, dict | list)
    ]
    at = f", at {' and '.join(held)}" if held else ""
    if tip.found and tip.estimate is not None and tip.ci is not None:
        side = "Above" if tip.increasing else "Below"
        return (
            f"{side} {param.with_value(tip.estimate)} (95% CI {param.span(*tip.ci)}) more than half the runs "
            f"{what} {when}{at}."
        )
    shares = tip.shares()
    low, high = shares.iloc[0], shares.iloc[-1]
    return (
        f"No tipping point between {param.format(low['value'])} and {param.format(high['value'])} of {param.name}: "
        f"{100 * low['tipped_share']:.0f}% and {100 * high['tipped_share']:.0f}% of the runs {what} {when}{at}."
    )


def _box(header: list[str], rows: list[list[str]], numeric: list[bool], note: str = "") -> str:
    """An escaped table in a box that scrolls sideways when it is wider than the page."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{html.escape(c)}</td>" if n else f"<td>{html.escape(c)}</td>"
            for c, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    more = f"<p class='sub'>{html.escape(note)}</p>" if note else ""
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>{more}"


def _param_cell(result: Analysis, column_paths: dict[str, str], column: str, value: Any) -> str:
    path = column_paths.get(column, column)
    return (result.parameters.get(path) or describe(path, result.currency)).format(value)


def _name(result: Analysis, path: str) -> str:
    return (result.parameters.get(path) or describe(path, result.currency)).name


def _tipped_share(result: Analysis, regime: str, outcomes: tuple[str, ...] = ("spiral", "collapse")) -> pd.Series:
    """Per design point: the share of its runs that spiral or collapse in ``regime``."""
    ok = result.runs[result.runs["status"] == "ok"]
    tipped = verdicts(ok, regime).isin(outcomes)
    return tipped.groupby(ok["point"]).mean()


def _ranking_table(result: Analysis, sweep: Sweep, columns: dict[str, str], regime: str, limit: int = 20) -> str:
    table = result.ranking
    if table is None:
        return ""
    paths = {c: p for p, c in columns.items()}
    params = [columns[p] for p in sweep.parameters if table[columns[p]].nunique() > 1] or [
        columns[p] for p in sweep.parameters
    ]
    metrics = [m for m in sweep.spec.analysis.rank_by if m in table]
    tipped = _tipped_share(result, regime)
    when = "long run" if regime == "outlook" else "horizon"
    named = bool(table["label"].astype(str).str.len().gt(0).any())  # a scenarios design names its points
    header = ["rank", *(["what-if"] if named else []), *[_name(result, paths[c]) for c in params], "runs"]
    header += [metric_name(m) for m in metrics] + [f"spiral or collapse ({when})"]
    rows = []
    for _, row in table.head(limit).iterrows():
        cells = [str(int(row[f"rank_{metrics[0]}"]))] if metrics else [""]
        cells += [str(row["label"])] if named else []
        cells += [_param_cell(result, paths, c, row[c]) for c in params]
        cells.append(f"{int(row['runs'])}")
        for m in metrics:
            ci = row.get(f"{m}_ci95")
            spread = f" ± {format_metric(m, ci, result.currency)}" if ci is not None and pd.notna(ci) and ci > 0 else ""
            cells.append(format_metric(m, row[m], result.currency) + spread)
        share = tipped.get(row["point"])
        cells.append("" if share is None else f"{100 * share:.0f}%")
        rows.append(cells)
    numeric = [True] + [False] * (len(params) + named) + [True] * (1 + len(metrics) + 1)
    note = f"first {limit} of {len(table)} design points; all in analysis/ranking.csv" if len(table) > limit else ""
    return _box(header, rows, numeric, note)


def _marginal_table(result: Analysis, column: str, path: str, table: pd.DataFrame) -> str:
    metrics = [c for c in table.columns if c not in (column, "runs")]
    header = [_name(result, path), "runs", *[metric_name(m) for m in metrics]]
    rows = [
        [_param_cell(result, {column: path}, column, row[column]), f"{int(row['runs'])}"]
        + [format_metric(m, row[m], result.currency) for m in metrics]
        for _, row in table.iterrows()
    ]
    return _box(header, rows, [False] + [True] * (1 + len(metrics)))


def _badges(counts: pd.Series) -> str:
    return " ".join(
        f"<span class='badge' style='background:{OUTCOME_COLORS[o]}'>{o}: {int(counts.get(o, 0))}</span>"
        for o in OUTCOME_NAMES
    )


def _note(result: Analysis, key: str) -> str:
    return f"<p class='sub'>Not shown: {html.escape(result.notes[key])}.</p>" if key in result.notes else ""


def render(result: Analysis, sweep: Sweep, manifest: dict[str, Any], figures: dict[str, Path]) -> str:
    """The self-contained analysis page (figures embedded), written for people: names, units, one answer first."""
    runs = result.runs
    columns: dict[str, str] = manifest["parameters"]
    regime = regime_of(sweep)
    scenario = _base_scenario(sweep)
    failed = int((runs["status"] == "failed").sum())
    swept = ", ".join(f"{_name(result, p)} <code>{html.escape(p)}</code>" for p in sweep.parameters)
    parts = [
        f"<h1>Sweep {html.escape(sweep.name)}</h1><p class='sub'>{html.escape(sweep.spec.description)}</p>",
        (
            f"<p>{len(runs):,} runs over {len(sweep.points):,} design points ({html.escape(sweep.spec.design.kind)}), "
            f"{len(sweep.seeds)} seed(s) each; {failed} failed. Base scenario: "
            f"{html.escape(str(sweep.spec.base))}. Swept: {swept}.</p>"
        ),
    ]
    horizon = (
        f"period {scenario.periods} ({years(scenario.periods, scenario.periods_per_year)})"
        if scenario
        else "the horizon"
    )
    limit = scenario.outlook_periods if scenario else None
    if regime == "outlook":
        regime_text = (
            f"Outcomes on this page are read <b>in the long run</b> (the outlook): each run goes on past the "
            f"horizon ({horizon}) until it settles or collapses, for up to {limit} more periods; a run still "
            "moving then is <i>drifting</i>."
        )
    else:
        regime_text = (
            f"Outcomes on this page are read <b>at the horizon</b> ({horizon}): where each run stands at the end "
            "of the simulated years, not where it settles later."
        )
    parts.append(f"<div class='regime' id='regime'>{regime_text}</div>")
    parts.append(
        f"<div class='badges'><b>At the horizon ({html.escape(horizon)})</b> {_badges(runs['outcome'].value_counts())}</div>"
    )
    if "outlook" in runs and runs["outlook"].notna().any():
        parts.append(
            f"<div class='badges'><b>In the long run (outlook)</b> {_badges(runs['outlook'].value_counts())}</div>"
        )
    if result.tipping is not None:
        parts.append(f"<p class='answer' id='tipping-sentence'>{html.escape(tipping_sentence(result, sweep))}</p>")

    parts.append("<h2>Phase diagram</h2>")
    if result.phase is not None and result.phase_axes is not None:
        x, y = (result.parameters[p] for p in result.phase_axes)
        when = "in the long run" if result.phase_regime == "outlook" else "at the horizon"
        parts.append(
            f"<p>Each cell is one setting of {html.escape(x.name)} and {html.escape(y.name)}, coloured by the "
            f"outcome most of its runs reach {when}. On the far side of the dashed line at least half of the runs "
            "spiral or collapse.</p>"
        )
        parts.append(_img(figures["phase"], "phase diagram: the most common outcome per cell"))
        parts.append(
            "<details><summary>Each outcome's share per cell, and the mean "
            f"{html.escape(metric_name(result.phase.metric))}</summary>"
            + _img(figures["phase_detail"], "phase diagram: share of each outcome")
            + "<p class='sub'>Every cell's counts are in analysis/phase.csv.</p></details>"
        )
    parts.append(_note(result, "phase"))

    parts.append("<h2>Tipping point</h2>")
    tip, tspec = result.tipping, sweep.spec.analysis.tipping
    if tip is not None and tspec is not None:
        param = result.parameters[tspec.parameter]
        parts.append(
            f"<p>Bisection on {html.escape(param.name)} between {html.escape(param.format(tspec.low))} and "
            f"{html.escape(param.format(tspec.high))}, {tspec.replicates} runs per value with the same seeds; "
            f"a logistic fit gives the point where half the runs tip and its 95% interval "
            f"({len(tip.evaluations):,} runs).</p>"
        )
        parts.append(_img(figures["tipping"], "tipping point"))
        shares = tip.shares()
        rows = [
            [param.format(r["value"], 2), f"{100 * r['tipped_share']:.0f}%", f"{int(r['runs'])}"]
            for _, r in shares.iterrows()
        ]
        parts.append(
            _box([param.name, f"runs that {outcome_words(list(tspec.outcomes))}", "runs"], rows, [True, True, True])
        )
    parts.append(_note(result, "tipping"))

    parts.append("<h2>Sensitivity</h2>")
    if result.sensitivity:
        parts.append(
            "<p>Indices of each lever for each metric, each design point averaged over its seeds first; "
            "intervals are 95% bootstrap confidence intervals (SALib).</p>"
        )
        parts.append(_img(figures["sensitivity"], "sensitivity indices"))
        for metric, table in result.sensitivity.items():
            header = [c.replace("_", " ") for c in table.columns]
            rows = [
                [_name(result, str(v)) if isinstance(v, str) else f"{v:.3f}" for v in row]
                for row in table.itertuples(index=False)
            ]
            numeric = [not isinstance(v, str) for v in table.iloc[0]]
            parts.append(f"<h3>{html.escape(metric_name(metric))}</h3>" + _box(header, rows, numeric))
    parts.append(_note(result, "sensitivity"))

    parts.append("<h2>Ranking</h2>")
    if result.ranking is not None:
        parts.append(
            "<p>Design points ranked by the first metric: means over seeds, ± the half-width of the 95% "
            f"interval of the mean, money in {html.escape(result.currency)} over the horizon.</p>"
            + _ranking_table(result, sweep, columns, regime)
        )
        paths = {c: p for p, c in columns.items()}
        for column, table in result.marginals.items():
            parts.append(
                f"<h3>By {html.escape(_name(result, paths.get(column, column)))} (averaged over everything else)</h3>"
                + _marginal_table(result, column, paths.get(column, column), table)
            )
    parts.append(_note(result, "ranking"))

    parts.append("<h2>Scenario discovery (PRIM)</h2>")
    box = result.discovery
    if box is not None:
        paths = {c: p for p, c in columns.items()}
        rows = [
            [
                _name(result, paths.get(r["parameter"], r["parameter"])),
                _param_cell(result, paths, r["parameter"], r["low"]),
                _param_cell(result, paths, r["parameter"], r["high"]),
            ]
            for _, r in box.limits.iterrows()
        ]
        parts.append(
            f"<p>The box below holds {box.coverage:.0%} of all <b>{html.escape(box.outcome)}</b> runs, and "
            f"{box.density:.0%} of the runs inside it end in {html.escape(box.outcome)} ({box.mass:.0%} of all runs). "
            f"The runs are exported for the EMA Workbench in <code>analysis/{html.escape(box.export.name)}</code> "
            "(<code>ema_workbench.load_results</code>).</p>"
            + _box(["parameter", "from", "to"], rows, [False, True, True])
        )
    parts.append(_note(result, "discovery"))
    environment = manifest.get("environment") if isinstance(manifest.get("environment"), dict) else {}
    footer = (
        f"procsim {html.escape(str(environment.get('procsim')))} &middot; sweep fingerprint "
        f"{html.escape(str(manifest['fingerprint'])[:12])} &middot; tables as CSV in analysis/"
    )
    return page(f"{sweep.name} analysis", f"<style>{PAGE_STYLE}</style>" + "".join(parts), footer)
