"""One chunk of a sweep (the seeds of one design point), run wherever an executor puts it.

A chunk is self-contained and picklable: the base scenario, the point's overrides, the
seeds and the output folder. The worker runs every seed, records a failing run with its
error instead of stopping, and publishes the chunk's Parquet files by atomic rename, so
the files exist completely or not at all, then seals the chunk with their SHA-256. Nothing here depends on which executor
(in-process, process pool, Dask) called it.
"""

from __future__ import annotations

import copy
import json
import resource
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..scenario import _apply_override, build_scenario
from . import store


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run and write one chunk."""

    out: str
    point: int
    block: int
    label: str
    params: dict[str, Any]
    columns: dict[str, str]  # parameter path -> column name
    replicates: list[int]
    seeds: list[int]
    base: dict[str, Any]
    source: str
    series: str  # every | every_k | final | none
    every: int
    fingerprint: str = ""  # the sweep's, recorded in the chunk's seal


@dataclass(frozen=True)
class ChunkReport:
    """What the driver needs to show progress: how many runs, failures and outcomes."""

    point: int
    block: int
    runs: int
    failed: int
    outcomes: dict[str, int]
    peak_rss_mib: float  # the worker process's resident-set high-water mark so far


def run_chunk(task: ChunkTask) -> ChunkReport:
    """Run every seed of a chunk and publish its runs (and series) files."""
    from ..runner import simulate

    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    params = parameter_values(task.params, task.columns)
    scenario, setup_error = None, None
    try:
        raw = copy.deepcopy(task.base)
        for path, value in task.params.items():
            _apply_override(raw, path, value)
        scenario = build_scenario(raw, source=f"{task.source} point {task.point}")
    except Exception as exc:  # noqa: BLE001 - recorded per run below
        setup_error = _describe(exc)
    for replicate, seed in zip(task.replicates, task.seeds, strict=True):
        row: dict[str, Any] = {
            "key": run_key(task.point, replicate),
            "point": task.point,
            "replicate": replicate,
            "seed": seed,
            "label": task.label,
            **params,
        }
        try:
            if setup_error:
                raise RuntimeError(setup_error)
            result = simulate(scenario, seed, record_agents_every=0)
        except Exception as exc:  # noqa: BLE001 - a failing run is data, not the end of the sweep
            rows.append(
                {**row, "status": "failed", "error": setup_error or _describe(exc), "outcome": None, "outlook": None}
            )
            continue
        summary = result.summary
        rows.append(
            {
                **row,
                "status": "ok",
                "error": None,
                "outcome": summary["outcome"],
                "outlook": summary.get("outlook"),
                "outlook_period": _number(summary.get("outlook_period")),
                **{name: _number(v) for name, v in summary["metrics"].items() if not isinstance(v, list)},
            }
        )
        kept = keep_series(result.timeseries, task.series, task.every)
        if kept is not None:
            kept.insert(0, "replicate", replicate)
            kept.insert(0, "point", task.point)
            frames.append(kept)
    runs = pd.DataFrame(rows)
    out = Path(task.out)
    runs_path, series_path = store.chunk_paths(out, task.point, task.block)
    files = {}
    if frames:
        files[series_path.name] = store.write_parquet_atomic(pd.concat(frames, ignore_index=True), series_path)
    files[runs_path.name] = store.write_parquet_atomic(runs, runs_path)
    store.seal(out, task.point, task.block, task.fingerprint, files)  # last: the seal marks the chunk complete
    failed = int((runs["status"] == "failed").sum())
    outcomes = runs["outcome"].dropna().value_counts().to_dict()
    return ChunkReport(
        task.point,
        task.block,
        len(rows),
        failed,
        {str(k): int(v) for k, v in outcomes.items()},
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_key(point: int, replicate: int) -> str:
    """A run's deterministic key: design point and replicate (its seed follows from both)."""
    return f"p{point:06d}-r{replicate:05d}"


def parameter_values(params: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """Swept values as table cells: numbers stay numbers, schedules and lists become JSON text."""
    out = {}
    for path, column in columns.items():
        value = params.get(path)
        if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
            out[column] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        else:
            out[column] = json.dumps(value, sort_keys=True, default=str)
    return out


def keep_series(ts: pd.DataFrame, mode: str, every: int) -> pd.DataFrame | None:
    """The per-period rows a sweep keeps: all, every k-th (and the last), the last, or none."""
    if mode == "none":
        return None
    if mode == "every":
        return ts.copy()
    last = ts["period"].iloc[-1]
    if mode == "final":
        return ts[ts["period"] == last].reset_index(drop=True)
    return ts[(ts["period"] % every == 0) | (ts["period"] == last)].reset_index(drop=True)


def _number(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return np.nan if value is None else value


def _describe(exc: BaseException) -> str:
    """The error and the line of our code that raised it, for the runs table."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/sim/" in f.filename.replace("\\", "/")]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
