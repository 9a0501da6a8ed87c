"""Where a sweep's results live: chunk files published by atomic rename, then compacted.

Layout of a sweep folder::

    sweep.json                 what was asked (spec, points, seeds, versions, fingerprint)
    chunks/runs-P-B.parquet    one row per run of point P, seed block B (zstd Parquet)
    chunks/series-P-B.parquet  the kept per-period series of the same runs
    runs.parquet               all runs, one row each: parameters, seed, outcome, metrics
    series.parquet             all kept series
    summary.json               counts of runs, failures and outcomes

A chunk's runs file is written last, so its presence means the chunk is complete; a
killed sweep loses at most the chunks in flight and ``--resume`` redoes only those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..outputs import atomic_path

CHUNKS = "chunks"


def chunk_paths(out: Path, point: int, block: int) -> tuple[Path, Path]:
    name = f"{point:06d}-{block:04d}.parquet"
    return out / CHUNKS / f"runs-{name}", out / CHUNKS / f"series-{name}"


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a zstd Parquet file under a temporary name in the same folder, then rename it into place."""
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd")


def done_chunks(out: Path) -> set[tuple[int, int]]:
    """Chunks whose runs file exists (complete)."""
    folder = out / CHUNKS
    if not folder.is_dir():
        return set()
    done = set()
    for path in folder.glob("runs-*.parquet"):
        point, block = path.stem.removeprefix("runs-").split("-")
        done.add((int(point), int(block)))
    return done


def clean_partials(out: Path) -> int:
    """Remove temporary files left by chunks that were in flight when a sweep was killed."""
    removed = 0
    for path in (out / CHUNKS).glob(".*.tmp") if (out / CHUNKS).is_dir() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def compact(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gather every chunk into ``runs.parquet`` and ``series.parquet``, sorted by point and replicate."""
    runs = _concat(sorted((out / CHUNKS).glob("runs-*.parquet")))
    series = _concat(sorted((out / CHUNKS).glob("series-*.parquet")))
    if not runs.empty:
        runs = runs.sort_values(["point", "replicate"], kind="stable", ignore_index=True)
    if not series.empty:
        series = series.sort_values(["point", "replicate", "period"], kind="stable", ignore_index=True)
    write_parquet_atomic(runs, out / "runs.parquet")
    write_parquet_atomic(series, out / "series.parquet")
    return runs, series


def _concat(paths: list[Path]) -> pd.DataFrame:
    frames = [pq.read_table(p).to_pandas() for p in paths]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_runs(out: Path) -> pd.DataFrame:
    path = Path(out) / "runs.parquet"
    if not path.is_file():
        raise InputError(
            "no runs.parquet here; run `procsim sweep` into this folder first (or --resume it)", source=str(out)
        )
    return pq.read_table(path).to_pandas()


def read_manifest(out: Path) -> dict:
    path = Path(out) / "sweep.json"
    if not path.is_file():
        raise InputError("not a sweep folder (no sweep.json)", source=str(out))
    return json.loads(path.read_text())


def query(out: Path, sql: str) -> pd.DataFrame:
    """Run SQL with DuckDB over the sweep's ``runs`` and ``series`` tables."""
    import duckdb

    out = Path(out)
    read_manifest(out)
    con = duckdb.connect()
    for table in ("runs", "series"):
        path = out / f"{table}.parquet"
        if path.is_file():
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{_sql_path(path)}')")
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise InputError(str(exc).splitlines()[0], source="SQL") from None
    finally:
        con.close()


def _sql_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
