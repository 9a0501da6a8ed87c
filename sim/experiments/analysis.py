"""``procsim analyze``: a sweep folder's phase diagram, tipping point, sensitivity, ranking, robustness,
time series and discovery, checked for results that read well but do not hold.

Everything is read back from the folder (``sweep.json``, ``runs.parquet``, ``series.parquet``),
so an analysis can be redone at any time; what each part needs from the design (two numeric
parameters, a sobol/morris sample, a tipping spec, levers and uncertainties, kept series) is
checked, and a part that does not apply says why in the report instead of failing. The
tipping-point search, the one part that simulates, runs on the workers while this process
draws the rest. Figures and tables go to ``analysis/`` and into one self-contained
``analysis.html`` (:mod:`sim.experiments.page`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.errors import InputError
from sim.experiments import checks, store
from sim.experiments.checks import Caveat
from sim.experiments.discovery import Box, DiscoveryUnavailable, discover
from sim.experiments.labels import Parameter, describe, metric_name
from sim.experiments.page import base_scenario, regime_of, render, tipping_sentence
from sim.experiments.phase import PhaseDiagram, phase_diagram, phase_figure, phase_panels
from sim.experiments.ranking import marginal_means, ranking
from sim.experiments.runner import make_executor
from sim.experiments.sensitivity import SensitivityUnavailable, sensitivity, sensitivity_figure
from sim.experiments.spec import TIPPED_SHARE, EnvelopeSpec, RobustnessSpec, Sweep, sweep_from_manifest
from sim.experiments.tipping import TippingPoint, find_tipping, search_runs, tipping_figure
from sim.inputs.loading import build_scenario
from sim.reports.cells import spreadsheet_frame
from sim.reports.files import atomic_write_text, clean_stale, ready, staging_folder, to_json
from sim.reports.run_folder import save_figure

if TYPE_CHECKING:
    from sim.experiments.robustness import Robustness
    from sim.runs.resources import Estimate

Log = Callable[[str], None]
ProgressBar = Callable[[int, str], contextlib.AbstractContextManager[Callable[[int], None] | None]]


@dataclass
class Analysis:
    """The results of ``analyze``: each part, or the reason it does not apply, the warnings, and the report."""

    folder: Path
    html: Path
    runs: pd.DataFrame
    phase: PhaseDiagram | None = None
    tipping: TippingPoint | None = None
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)
    ranking: pd.DataFrame | None = None
    marginals: dict[str, pd.DataFrame] = field(default_factory=dict)
    discovery: Box | None = None
    robustness: Robustness | None = None
    envelopes: pd.DataFrame | None = None
    caveats: list[Caveat] = field(default_factory=list)
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
    say = log or (lambda _msg: None)
    result = Analysis(folder, folder / "analysis.html", runs)
    base = base_scenario(sweep)
    result.currency = base.currency if base is not None else "EUR"
    result.parameters = {path: describe(path, result.currency) for path in columns}
    tip = sweep.spec.analysis.tipping
    if tip is not None:
        result.parameters.setdefault(tip.parameter, describe(tip.parameter, result.currency))
    staging = staging_folder(folder, "analysis")
    figures: dict[str, Path] = {}
    try:
        with contextlib.ExitStack() as stack:
            executor, slots = _executor(sweep, stack, workers=workers, tipping=tipping)
            boxed = _start_discovery(result, sweep, columns, staging, executor, say)
            search = _start_tipping(result, sweep, stack, executor, slots, run=tipping, say=say, progress=progress)
            _phase(result, sweep, columns, staging, figures, say)
            _sensitivity(result, sweep, staging, figures)
            _ranking(result, sweep, columns, staging)
            _robustness(result, sweep, columns, staging, figures, say)
            _envelopes(result, sweep, manifest, staging, figures, say)
            if boxed is not None:
                try:
                    result.discovery = boxed.result()
                except DiscoveryUnavailable as exc:
                    result.notes["discovery"] = str(exc)
            if search is not None:
                result.tipping = search.result()
        if result.tipping is not None and tip is not None:
            _csv(result.tipping.evaluations, staging / "tipping.csv")
            parameter = result.parameters[tip.parameter]
            save_figure(tipping_figure(result.tipping, parameter), staging / "tipping.png", svg=False)
            figures["tipping"] = staging / "tipping.png"
        result.caveats = _checks(result, sweep, columns)
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


def _executor(
    sweep: Sweep, stack: contextlib.ExitStack, *, workers: int | None, tipping: bool
) -> tuple[Executor | None, int]:
    """The processes the parts that take long share: the tipping search's ``workers`` (default: one per core) and
    one more for scenario discovery (importing the EMA Workbench alone takes seconds), started before any thread
    so they are forked from a single-threaded process. Returns the executor and the search's slots."""
    spec = sweep.spec.analysis
    searches = spec.tipping is not None and tipping
    slots = workers or os.cpu_count() or 1
    total = (slots if searches else 0) + (1 if spec.discovery is not None else 0)
    if total == 0:
        return None, 0
    if searches:  # the search's workers simulate: load the engine once, here, and fork it to all of them
        import sim.runs.runner  # noqa: F401
    executor, _ = stack.enter_context(make_executor(total))
    return executor, slots


def _start_discovery(
    result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path, executor: Executor | None, say: Log
) -> Future[Box] | None:
    """Scenario discovery (PRIM) on a process of its own while this one draws the rest."""
    spec = sweep.spec.analysis.discovery
    if spec is None or executor is None:
        result.notes["discovery"] = "no analysis.discovery in the sweep file"
        return None
    say(f"scenario discovery (PRIM) on {spec.outcome}")
    parameters = [columns[p] for p in sweep.parameters]
    return executor.submit(discover, result.runs, parameters, spec.outcome, spec.threshold, staging)


def _start_tipping(
    result: Analysis,
    sweep: Sweep,
    stack: contextlib.ExitStack,
    executor: Executor | None,
    slots: int,
    *,
    run: bool,
    say: Log,
    progress: ProgressBar | None,
) -> Future[TippingPoint] | None:
    """Start the tipping-point search on the workers, in a thread of its own that waits for them (the search is
    a chain of simulations; this process draws the other parts meanwhile). Leaving the stack stops the search at
    its next step."""
    spec = sweep.spec.analysis.tipping
    if spec is None:
        result.notes["tipping"] = "no analysis.tipping in the sweep file"
        return None
    if not run or executor is None:
        result.notes["tipping"] = "skipped (--no-tipping)"
        return None
    parameter = result.parameters[spec.parameter]
    say(f"tipping point of the {parameter.name} ({spec.replicates} runs per value)")
    bar = progress or (lambda _total, _label: contextlib.nullcontext(None))
    tick = stack.enter_context(bar(search_runs(spec), "tipping point"))
    stop = threading.Event()
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tipping")
    stack.callback(background.shutdown, wait=True)
    stack.callback(stop.set)  # runs first when the stack unwinds: an interrupted analysis ends the search
    return background.submit(
        find_tipping,
        sweep,
        spec,
        executor,
        say,
        slots=slots,
        progress=tick,
        name=parameter.with_value,
        stop=stop,
    )


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
    px, py = result.parameters[x], result.parameters[y]
    say(f"phase diagram: {px.name} x {py.name}")
    regime = spec.regime if spec else "outlook"
    result.phase = phase_diagram(result.runs, columns[x], columns[y], metric, regime)
    result.phase_axes, result.phase_regime = (x, y), regime
    _csv(result.phase.table, staging / "phase.csv")
    save_figure(phase_figure(result.phase, px, py, regime), staging / "phase.png", svg=False)
    save_figure(phase_panels(result.phase, px, py, metric_name(metric)), staging / "phase_detail.png", svg=False)
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
        _csv(table, staging / f"sensitivity_{metric}.csv")
    if result.sensitivity:
        save_figure(sensitivity_figure(result.sensitivity), staging / "sensitivity.png", svg=False)
        figures["sensitivity"] = staging / "sensitivity.png"


def _ranking(result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path) -> None:
    rank_by = [m for m in sweep.spec.analysis.rank_by if m in result.runs]
    if sweep.spec.design.kind in ("lhs", "sobol", "morris") or not rank_by:
        result.notes["ranking"] = "ranks the points of grid and scenarios designs"
        return
    params = [columns[p] for p in sweep.parameters]
    result.ranking = ranking(result.runs, params, rank_by)
    _csv(result.ranking, staging / "ranking.csv")
    for column in params:
        if result.runs[column].nunique() > 1:
            result.marginals[column] = marginal_means(result.runs, column, rank_by)


def _robustness(
    result: Analysis, sweep: Sweep, columns: dict[str, str], staging: Path, figures: dict[str, Path], say: Log
) -> None:
    if not sweep.spec.levers:
        result.notes["robustness"] = "no levers and uncertainties in the sweep file"
        return
    from sim.experiments.robustness import robustness, robustness_figure

    spec = sweep.spec.analysis.robustness or RobustnessSpec()
    say(f"robustness of {len(sweep.spec.levers)} lever(s) across {len(sweep.spec.uncertainties)} uncertainty(ies)")
    names = {columns[p]: result.parameters[p] for p in columns}
    whatifs = {path for whatif in sweep.spec.design.scenarios or [] for path in whatif.set}
    found = robustness(
        result.runs,
        [columns[p] for p in sweep.spec.levers],
        [columns[p] for p in sweep.spec.uncertainties],
        spec,
        names,
        named=bool(whatifs) and whatifs <= set(sweep.spec.levers),
    )
    result.robustness = found
    _csv(found.table, staging / "robustness.csv")
    _csv(found.regret.rename_axis("setting").reset_index(), staging / "regret.csv")
    _csv(found.scores, staging / "feature_scores.csv")
    save_figure(robustness_figure(found, result.currency, names), staging / "robustness.png", svg=False)
    figures["robustness"] = staging / "robustness.png"


def _envelopes(
    result: Analysis,
    sweep: Sweep,
    manifest: dict[str, Any],
    staging: Path,
    figures: dict[str, Path],
    say: Log,
) -> None:
    if sweep.spec.outputs.series not in ("every", "every_k"):
        result.notes["envelopes"] = f"needs series over time (outputs.series: every_k), not {sweep.spec.outputs.series}"
        return
    from sim.experiments.envelopes import envelope_figure, envelopes

    spec = sweep.spec.analysis.envelopes or EnvelopeSpec()
    by = result.parameters[spec.by].name if spec.by in result.parameters else spec.by
    say(f"time series: {', '.join(metric_name(s) for s in spec.series)} by {by}")
    try:
        bands = envelopes(
            result.folder,
            spec.series,
            spec.by,
            points=spec.points,
            regime=spec.regime,
            runs=result.runs,
            manifest=manifest,
        )
    except InputError as exc:
        result.notes["envelopes"] = exc.message
        return
    if bands.empty:
        result.notes["envelopes"] = "no successful run kept its series"
        return
    result.envelopes = bands
    _csv(bands, staging / "envelopes.csv")
    save_figure(envelope_figure(bands, result.currency), staging / "envelopes.png", svg=False)
    figures["envelopes"] = staging / "envelopes.png"


def _csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV, its text (what-if names, settings) safe for a spreadsheet."""
    spreadsheet_frame(frame).to_csv(path, index=False, lineterminator="\n")


def _checks(result: Analysis, sweep: Sweep, columns: dict[str, str]) -> list[Caveat]:
    """Every warning about what the analysis found: the metrics it read, the indices, the cells, the search."""
    names = {columns[p]: result.parameters[p] for p in columns}
    read = [result.phase.metric] if result.phase is not None else []
    read += list(result.sensitivity)
    if result.ranking is not None:
        read += [m for m in sweep.spec.analysis.rank_by if m in result.runs]
    if result.robustness is not None:
        spec = result.robustness.spec
        read += [spec.metric] + ([] if spec.threshold.metric == TIPPED_SHARE else [spec.threshold.metric])
    found: list[Caveat] = []
    for metric in dict.fromkeys(read):
        found += checks.metric_checks(result.runs, metric, names, result.currency)
    design = sweep.spec.design
    for metric, table in result.sensitivity.items():
        sample = getattr(design, design.kind)
        if "ST" in table:
            per = len(sweep.points) // max(sample.samples, 1)
            found += checks.sobol_checks(table, metric, result.parameters, sample.samples, per)
        else:
            found += checks.morris_checks(table, metric, result.parameters, sample.samples)
    if result.phase is not None and result.phase_axes is not None:
        x, y = (result.parameters[p] for p in result.phase_axes)
        found += checks.phase_checks(result.phase, x, y, design.kind in ("lhs", "sobol", "morris"))
    tip = sweep.spec.analysis.tipping
    if result.tipping is not None and tip is not None:
        found += checks.tipping_checks(result.tipping, tip, result.parameters[tip.parameter])
    if result.robustness is not None and result.robustness.missing:
        found.append(
            Caveat(
                "robustness",
                f"{result.robustness.missing} pair(s) of a lever setting and a market have no successful run",
                "regret there is unknown; see the failed runs in runs.parquet, or give every what-if every lever",
            )
        )
    return found


def _summary(result: Analysis, sweep: Sweep) -> dict[str, Any]:
    """analysis.json: the headline numbers, for scripts."""
    tip = result.tipping
    rob = result.robustness
    return {
        "runs": len(result.runs),
        "regime": regime_of(sweep),
        "warnings": checks.as_records(result.caveats),
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
        "robustness": None
        if rob is None
        else {
            "metric": rob.spec.metric,
            "goal": rob.spec.goal,
            "threshold": rob.spec.threshold.model_dump(exclude_none=True),
            "settings": rob.table.drop(columns=rob.levers).to_dict(orient="records"),
            "feature_scores": rob.scores.to_dict(orient="records"),
        },
        "discovery": None
        if result.discovery is None
        else {
            "outcome": result.discovery.outcome,
            "coverage": result.discovery.coverage,
            "density": result.discovery.density,
            "mass": result.discovery.mass,
            "box": result.discovery.limits.to_dict(orient="records"),
        },
        "notes": result.notes,
    }
