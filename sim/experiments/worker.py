"""Chunks of a sweep (the seeds of one design point), run in batches wherever an executor puts them.

A chunk is self-contained and picklable: the base scenario, the point's overrides, the
seeds and the output folder. A batch is a few chunks whose runs are simulated together
as one vectorised ensemble (with the results of their single runs). The worker runs every
seed, records a failing run with its error instead of stopping, and publishes each
chunk's Parquet files by atomic rename, so the files exist completely or not at all, then
seals the chunk with their SHA-256. Nothing here depends on which executor
(in-process, process pool, Dask) called it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import resource
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.engine.series import COUNT_SERIES
from sim.experiments import store
from sim.inputs.loading import build_scenario
from sim.inputs.overrides import _apply_override
from sim.runs.resources import release_free_memory


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
    tables: dict[str, pa.Table] | None = None  # the files published, by name: compaction need not read them back


def run_chunk(task: ChunkTask) -> ChunkReport:
    """Run every seed of a chunk and publish its runs (and series) files."""
    return run_batch([task])[0]


def run_batch(tasks: list[ChunkTask], size: int | None = None) -> list[ChunkReport]:
    """Run the seeds of several chunks as one vectorised ensemble, then publish each chunk's files.

    Every run's results are those of its single run (see :func:`sim.runs.runner.run_ensemble`), so
    a chunk's files are the same bytes however its runs were batched. Runs that cannot share
    an ensemble (another horizon or contract cycle) run in an ensemble of their own; an
    ensemble has at most ``size`` runs (1: every run on its own, the single-run engine); if an
    ensemble fails, its runs are run one by one so the failing run is recorded with its error.
    """
    built: dict[int, tuple[Any, str | None]] = {}
    for task in tasks:  # the chunks of one point share its scenario (built once)
        if task.point not in built:
            built[task.point] = _scenario(task)
    scenarios = [built[task.point] for task in tasks]
    jobs = [
        (t, i, replicate, seed)
        for t, (task, (scenario, error)) in enumerate(zip(tasks, scenarios, strict=True))
        for i, (replicate, seed) in enumerate(zip(task.replicates, task.seeds, strict=True))
        if error is None
    ]
    results: dict[tuple[int, int], Any] = {}
    groups: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    for job in jobs:
        scenario = scenarios[job[0]][0]
        groups.setdefault((scenario.periods, scenario.market.contract_cycle), []).append(job)
    step = size or len(jobs) or 1
    for group in groups.values():
        for first in range(0, len(group), step):
            members = group[first : first + step]
            runs = [(scenarios[t][0], seed) for t, _, _, seed in members]
            results.update(_simulate(runs, [(t, i) for t, i, _, _ in members]))
    reports = [
        _publish_chunk(task, [scenarios[t][1] or results[(t, i)] for i in range(len(task.seeds))])
        for t, task in enumerate(tasks)
    ]
    del results  # the batch's models go now: the next batch starts from a trimmed heap (see sim.runs.resources)
    release_free_memory()
    return reports


def _publish_chunk(task: ChunkTask, found: list[Any]) -> ChunkReport:
    """Publish a chunk from its runs' results (or error texts, for runs that failed)."""
    kept = [(r, result) for r, result in zip(task.replicates, found, strict=True) if not isinstance(result, str)]
    return _publish(task, runs_table(task, found), chunk_series(task, kept))


def runs_table(task: ChunkTask, results: list[Any]) -> pa.Table:
    """A chunk's runs, one row each: key, point, replicate, seed, label, the swept values, status, error,
    outcome, outlook and the scalar metrics (a failed run's result is its error text: no outcome, no metrics).

    Built column by column from Python values (no per-run dicts, no pandas), with the types pandas
    gave them before: counts int64, metrics float64 with missing values as nulls (text metrics as
    text), swept values as numbers or JSON text; an error, outcome or outlook column holding
    nothing but None is of null type (read back as None).
    """
    n = len(task.seeds)
    summaries = [None if isinstance(result, str) else result.summary for result in results]
    columns: dict[str, Any] = {
        "key": [run_key(task.point, replicate) for replicate in task.replicates],
        "point": pa.array(np.full(n, task.point, dtype=np.int64)),
        "replicate": pa.array(task.replicates, pa.int64()),
        "seed": pa.array(task.seeds, pa.int64()),
        "label": [task.label] * n,
        **{column: [value] * n for column, value in parameter_values(task.params, task.columns).items()},
        "status": ["failed" if s is None else "ok" for s in summaries],
        "error": [result if isinstance(result, str) else None for result in results],
        "outcome": [None if s is None else s["outcome"] for s in summaries],
        "outlook": [None if s is None else s.get("outlook") for s in summaries],
    }
    ok = [s for s in summaries if s is not None]
    if ok:  # a chunk of failed runs only has no metric columns (compaction fills them with nulls)
        columns["outlook_period"] = _numbers([None if s is None else s.get("outlook_period") for s in summaries])
        metrics = [None if s is None else s["metrics"] for s in summaries]
        names = dict.fromkeys(k for s in ok for k, v in s["metrics"].items() if not isinstance(v, list))
        for name in names:
            values = [None if m is None else m.get(name) for m in metrics]
            columns[name] = _numbers([None if isinstance(v, list) else v for v in values])
    return pa.table(columns)


def kept_periods(periods: int, mode: str, every: int) -> np.ndarray | None:
    """The periods a sweep keeps of a run's series: all, every k-th (and the last), the last, or none."""
    if mode == "none":
        return None
    period = np.arange(periods)
    if mode == "every":
        return period
    if mode == "final":
        return period[-1:]
    return period[(period % every == 0) | (period == periods - 1)]


def chunk_series(task: ChunkTask, kept: list[tuple[int, Any]]) -> pa.Table | None:
    """The kept series rows of a chunk's runs as one table: ``point, replicate, period`` and the market series."""
    if not kept:
        return None
    periods = kept_periods(len(kept[0][1].series["period"]), task.series, task.every)
    if periods is None:
        return None
    n = len(periods)
    columns: dict[str, pa.Array] = {
        "point": pa.array(np.full(n * len(kept), task.point, dtype=np.int64)),
        "replicate": pa.array(np.repeat(np.array([r for r, _ in kept], dtype=np.int64), n)),
        "period": pa.array(np.tile(periods, len(kept)).astype(np.int64)),
    }
    series = [result.model.recorder.series for _, result in kept]
    names = list(series[0])
    # runs x series x periods in one array, then one row per series: a few array operations per chunk
    cube = np.array([[s[name] for name in names] for s in series])[:, :, periods]
    values = cube.transpose(1, 0, 2).reshape(len(names), -1)
    for name, row in zip(names, values, strict=True):
        # counts as int64; a NaN of a float series is stored as a null, as pandas did
        columns[name] = pa.array(row.astype(np.int64)) if name in COUNT_SERIES else pa.array(row, from_pandas=True)
    return pa.table(columns)


def _scenario(task: ChunkTask) -> tuple[Any, str | None]:
    """The scenario of a chunk's design point, or the error that stops every run of it."""
    try:
        raw = copy.deepcopy(task.base)
        for path, value in task.params.items():
            _apply_override(raw, path, value)
        return build_scenario(raw, source=f"{task.source} point {task.point}"), None
    except Exception as exc:  # noqa: BLE001 - recorded per run
        return None, _describe(exc)


def _simulate(runs: list[tuple[Any, int]], keys: list[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """Results (or error texts) of runs that share a structure: one ensemble, or one by one (a single run,
    or an ensemble that failed)."""
    from sim.runs.runner import run_ensemble, simulate

    if len(runs) > 1:
        with contextlib.suppress(Exception):  # if it fails, find the run that fails and keep the others
            return dict(zip(keys, run_ensemble([s for s, _ in runs], [seed for _, seed in runs]), strict=True))
    out: dict[tuple[int, int], Any] = {}
    for key, (scenario, seed) in zip(keys, runs, strict=True):
        try:
            out[key] = simulate(scenario, seed, record_agents_every=0)
        except Exception as exc:  # noqa: BLE001 - a failing run is data, not the end of the sweep
            out[key] = _describe(exc)
    return out


def _publish(task: ChunkTask, runs: pa.Table, series: pa.Table | None) -> ChunkReport:
    """Write a chunk's series and runs files, then seal the chunk (the seal marks it complete)."""
    out = Path(task.out)
    runs_path, series_path = store.chunk_paths(out, task.point, task.block)
    files = {}
    if series is not None:
        files[series_path.name] = store.write_parquet_atomic(series, series_path)
    files[runs_path.name] = store.write_parquet_atomic(runs, runs_path)
    store.seal(out, task.point, task.block, task.fingerprint, files)  # last: the seal marks the chunk complete
    outcomes = Counter(v for v in runs.column("outcome").to_pylist() if v is not None)
    return ChunkReport(
        task.point,
        task.block,
        runs.num_rows,
        runs.column("status").to_pylist().count("failed"),
        {str(k): int(v) for k, v in outcomes.most_common()},
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        {runs_path.name: runs, **({series_path.name: series} if series is not None else {})},
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
    """The per-period rows of one run's series a sweep keeps (see :func:`kept_periods`)."""
    periods = kept_periods(len(ts), mode, every)
    return None if periods is None else ts.iloc[periods].reset_index(drop=True)


def _numbers(values: list[Any]) -> pa.Array:
    """A metric's column: float64 with nulls for missing values; text and flags as pandas typed them."""
    try:
        array = pa.array(values, from_pandas=True)  # None and NaN as nulls
    except (pa.ArrowException, TypeError, ValueError):  # what Arrow cannot infer (an int beyond int64)
        return pa.array([_number(v) for v in values], from_pandas=True)
    kind = array.type
    if pa.types.is_null(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return array.cast(pa.float64(), safe=False)  # counts as floats; nothing but None as float nulls
    return array


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
