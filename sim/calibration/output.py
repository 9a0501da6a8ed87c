"""A calibration's folder: started (and resumed) like a sweep's, finished with every output at once.

``calibration.json`` (written first) records what is being fitted and its fingerprint;
``batches/`` keeps each simulated task, so ``--resume`` (the same command) re-runs only what
is missing. When the search is done the outputs are written into a hidden staging folder
and moved in, ``manifest.json`` last: a folder without a manifest is unfinished.

| file | what |
|---|---|
| ``posterior.parquet`` | the last population: one column per fitted path, ``weight``, ``distance`` |
| ``posterior.csv`` | per parameter: prior, median, 50% and 90% intervals, prior coverage, pinned down |
| ``fit.csv`` | per period: the simulated 10/50/90% band of each observed series, and the observed values |
| ``calibrated.yaml`` | the scenario at the posterior medians (``procsim run calibrated.yaml``) |
| ``plots/fit.png``, ``plots/pairs.png`` | the figures (and SVG) |
| ``calibration.html``, ``summary.json`` | the page and its figures for programs |
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration import charts, page, results
from sim.calibration.inference import Fitted, infer
from sim.calibration.observed import label
from sim.calibration.spec import Calibration
from sim.errors import InputError
from sim.reports.cells import spreadsheet_frame
from sim.reports.files import (
    atomic_write_text,
    check_out,
    clean_stale,
    environment,
    manifest,
    to_json,
    write_frame_csv,
    write_parquet,
)
from sim.reports.run_folder import save_figure
from sim.runs.inline import InlineExecutor

STATE = "calibration.json"
OUTPUTS = (
    "posterior.parquet",
    "posterior.csv",
    "fit.csv",
    "calibrated.yaml",
    "plots",
    "calibration.html",
    "summary.json",
)


@dataclass
class CalibrationResult:
    """A finished calibration: its folder, the posterior and the figures every output prints."""

    out: Path
    fitted: Fitted
    table: pd.DataFrame
    quality: dict[str, Any]
    sentences: dict[str, str]
    band: results.Band


def prepare(calibration: Calibration, out: Path, *, resume: bool, command: Sequence[str] | None = None) -> Path:
    """Create the folder (or check it holds this calibration, on resume); return where batches are kept."""
    state = out / STATE
    fingerprint = calibration.fingerprint()
    if resume:
        if not state.is_file():
            raise InputError(f"nothing to resume here (no {STATE}); run without --resume first", source=str(out))
        try:
            previous = json.loads(state.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous != fingerprint:
            raise InputError(
                "this folder holds a different calibration (the scenario, the observed file, the fits, the seed or "
                "the replicates changed); use a new --out",
                source=str(out),
            )
        clean_stale(out, 0)  # a killed session's half-written temporaries
        clean_stale(out / "batches", 0)
        return out / "batches"
    check_out(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", source=str(out)) from None
    atomic_write_text(
        state,
        to_json(
            {
                "kind": "calibration",
                "fingerprint": fingerprint,
                "scenario": calibration.scenario.name,
                "observed": calibration.observed.source,
                "fits": [{"path": f.path, "low": f.low, "high": f.high} for f in calibration.fits],
                "replicates": calibration.replicates,
                "population": calibration.population,
                "seed": calibration.seed,
                "command": list(command) if command else None,
                "environment": environment(("numpy", "pandas", "pyabc", "mesa")),
                "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        ),
    )
    return out / "batches"


def calibrate(
    calibration: Calibration,
    out: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    command: Sequence[str] | None = None,
) -> CalibrationResult:
    """Fit ``calibration`` and write its folder at ``out`` (``resume``: finish the one there)."""
    out = Path(out)
    batches = prepare(calibration, out, resume=resume, command=command)
    fitted = infer(calibration, executor=executor, folder=batches, progress=progress)
    band = results.predictive(fitted, executor or InlineExecutor())
    table = results.parameter_table(fitted)
    quality = results.fit_quality(fitted, band)
    words = results.sentences(fitted, table, quality)
    result = CalibrationResult(out, fitted, table, quality, words, band)
    write(result, command)
    return result


def fit_frame(result: CalibrationResult) -> pd.DataFrame:
    """fit.csv: per period, each observed series' simulated 10/50/90% and the observed value (empty if none)."""
    cal = result.fitted.calibration
    band, observed = result.band, cal.observed
    columns: dict[str, object] = {"period": band.periods, "year": (band.periods + 1) / cal.scenario.periods_per_year}
    rows = {int(p): i for i, p in enumerate(observed.periods)}
    for j, name in enumerate(observed.series):
        columns[f"{name}_p10"] = band.low[j]
        columns[f"{name}_p50"] = band.mid[j]
        columns[f"{name}_p90"] = band.high[j]
        columns[f"{name}_observed"] = [observed.values[rows[p], j] if p in rows else float("nan") for p in band.periods]
    frame = pd.DataFrame(columns)
    return frame


def write(result: CalibrationResult, command: Sequence[str] | None) -> None:
    """Every output into a staging folder, moved into place one by one, ``manifest.json`` last."""
    out, fitted = result.out, result.fitted
    cal = fitted.calibration
    stage = Path(tempfile.mkdtemp(prefix=".result.partial-", dir=out))
    try:
        write_parquet(fitted.particles, stage / "posterior.parquet")
        write_frame_csv(spreadsheet_frame(result.table), stage / "posterior.csv")
        write_frame_csv(fit_frame(result), stage / "fit.csv")
        atomic_write_text(stage / "calibrated.yaml", results.calibrated(fitted).to_yaml())
        figures = {"fit": stage / "plots" / "fit.png", "pairs": stage / "plots" / "pairs.png"}
        save_figure(charts.fit_figure(fitted, result.band), figures["fit"])
        save_figure(charts.pairs_figure(fitted), figures["pairs"])
        atomic_write_text(
            stage / "calibration.html", page.calibration_page(fitted, result.table, result.sentences, figures, out)
        )
        summary = page.summary_json(fitted, result.table, result.quality, result.sentences)
        summary["series_labels"] = {name: label(name) for name in cal.observed.series}
        atomic_write_text(stage / "summary.json", to_json(summary))
        for name in OUTPUTS:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(stage / name, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    info = manifest(cal.scenario, [cal.seed], fitted.wall_seconds, command)
    info["fingerprint"] = cal.fingerprint()
    info["packages"]["pyabc"] = metadata.version("pyabc")
    atomic_write_text(out / "manifest.json", to_json(info))
