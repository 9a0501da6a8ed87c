"""Where a sweep's results live: chunk files published by atomic rename, checked, then compacted.

Layout of a sweep folder::

    sweep.json                 what was asked (spec, points, seeds, versions, fingerprint)
    chunks/runs-P-B.parquet    one row per run of point P, seed block B (zstd Parquet)
    chunks/series-P-B.parquet  the kept per-period series of the same runs
    chunks/done-P-B.json       the chunk's seal: the sweep's fingerprint and each file's SHA-256
    runs.parquet               all runs, one row each: parameters, seed, outcome, metrics
    series.parquet             all kept series
    summary.json               counts of runs, failures and outcomes, and the two files' SHA-256

Every Parquet file carries page checksums. A chunk is complete when its seal exists (it
is written last); ``--resume`` checks every seal against its files and re-runs a chunk
whose files are missing, truncated or altered, so a killed or damaged sweep loses at
most those chunks and still ends byte-identical to an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..outputs import atomic_path, atomic_write_text, to_json

CHUNKS = "chunks"


def chunk_paths(out: Path, point: int, block: int) -> tuple[Path, Path]:
    name = f"{point:06d}-{block:04d}.parquet"
    return out / CHUNKS / f"runs-{name}", out / CHUNKS / f"series-{name}"


def seal_path(out: Path, point: int, block: int) -> Path:
    return out / CHUNKS / f"done-{point:06d}-{block:04d}.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> str:
    """Write zstd Parquet with page checksums under a temporary name, then rename it into place; its SHA-256."""
    with atomic_path(path) as tmp:
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd", write_page_checksum=True
        )
        digest = sha256(tmp)
    return digest


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, verifying its page checksums."""
    return pq.read_table(path, page_checksum_verification=True).to_pandas()


def seal(out: Path, point: int, block: int, fingerprint: str, files: dict[str, str]) -> None:
    """Mark a chunk complete: its files' names and SHA-256, and the sweep it belongs to."""
    atomic_write_text(seal_path(out, point, block), to_json({"fingerprint": fingerprint, "files": files}))


@dataclass
class ChunkCheck:
    """What ``check_chunks`` found: complete chunks, the ones that must run again and why."""

    done: set[tuple[int, int]]
    damaged: dict[str, str]  # chunk name -> reason
    fingerprints: set[str]


def check_chunks(out: Path, fingerprint: str | None) -> ChunkCheck:
    """Verify every sealed chunk (files present, SHA-256 as sealed, same sweep); remove what fails.

    A damaged chunk's files and seal are deleted, so it runs again; so are files without
    a seal (a chunk that was killed while publishing).
    """
    folder = out / CHUNKS
    done: set[tuple[int, int]] = set()
    damaged: dict[str, str] = {}
    fingerprints: set[str] = set()
    if not folder.is_dir():
        return ChunkCheck(done, damaged, fingerprints)
    sealed: set[str] = set()
    for path in sorted(folder.glob("done-*.json")):
        key = path.stem.removeprefix("done-")
        point, block = (int(x) for x in key.split("-"))
        reason = None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            files = record["files"]
            fingerprints.add(record["fingerprint"])
            if fingerprint is not None and record["fingerprint"] != fingerprint:
                raise InputError(
                    "this folder holds chunks of a different sweep (the sweep file, its base scenario or the "
                    "code's defaults changed); use a new --out",
                    source=str(out),
                )
            for name, digest in files.items():
                target = folder / name
                if not target.is_file():
                    reason = f"{name} is missing"
                elif sha256(target) != digest:
                    reason = f"{name} does not match its recorded SHA-256 (truncated or altered)"
                if reason:
                    break
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            reason = "its seal is unreadable"
        if reason:
            damaged[f"{point:06d}-{block:04d}"] = reason
            _remove_chunk(out, point, block)
        else:
            done.add((point, block))
            sealed.update(files)
    for path in folder.glob("*-*.parquet"):
        if path.name not in sealed:  # published but never sealed: the sweep stopped in between
            path.unlink(missing_ok=True)
    return ChunkCheck(done, damaged, fingerprints)


def _remove_chunk(out: Path, point: int, block: int) -> None:
    for path in (*chunk_paths(out, point, block), seal_path(out, point, block)):
        path.unlink(missing_ok=True)


def done_chunks(out: Path) -> set[tuple[int, int]]:
    """Chunks with a seal (complete when they were published; ``check_chunks`` verifies them)."""
    folder = out / CHUNKS
    if not folder.is_dir():
        return set()
    return {tuple(int(x) for x in p.stem.removeprefix("done-").split("-")) for p in folder.glob("done-*.json")}


def clean_partials(out: Path) -> int:
    """Remove temporary files left by chunks that were in flight when a sweep was killed."""
    removed = 0
    for path in (out / CHUNKS).glob(".*.tmp") if (out / CHUNKS).is_dir() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def compact(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Gather every chunk into ``runs.parquet`` and ``series.parquet``, sorted by point and replicate.

    Returns both tables and the SHA-256 of each file written.
    """
    runs = _concat(sorted((out / CHUNKS).glob("runs-*.parquet")))
    series = _concat(sorted((out / CHUNKS).glob("series-*.parquet")))
    if not runs.empty:
        runs = runs.sort_values(["point", "replicate"], kind="stable", ignore_index=True)
    if not series.empty:
        series = series.sort_values(["point", "replicate", "period"], kind="stable", ignore_index=True)
    digests = {
        "runs.parquet": write_parquet_atomic(runs, out / "runs.parquet"),
        "series.parquet": write_parquet_atomic(series, out / "series.parquet"),
    }
    return runs, series, digests


def _concat(paths: list[Path]) -> pd.DataFrame:
    frames = [read_parquet(p) for p in paths]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def resume_hint(out: Path, manifest: dict[str, Any] | None = None) -> str:
    """The command that finishes or rebuilds a sweep folder."""
    from shlex import quote

    sweep = (manifest or {}).get("source") or "SWEEP"
    return f"procsim sweep {quote(str(sweep))} --out {quote(str(out))} --resume"


def verify(out: Path, name: str, manifest: dict[str, Any] | None = None) -> Path:
    """A compacted file of the sweep, checked against the SHA-256 that ``summary.json`` recorded."""
    path = Path(out) / name
    if not path.is_file():
        raise InputError(
            f"no {name} here; run `procsim sweep` into this folder first (or finish it: {resume_hint(out, manifest)})",
            source=str(out),
        )
    expected = _recorded_digests(out).get(name)
    if expected is not None and sha256(path) != expected:
        raise InputError(
            f"{name} does not match the SHA-256 recorded in summary.json (damaged or altered); rebuild it "
            f"from the chunks with: {resume_hint(out, manifest)}",
            source=str(out),
        )
    return path


def _recorded_digests(out: Path) -> dict[str, str]:
    try:
        digests = json.loads((Path(out) / "summary.json").read_text(encoding="utf-8")).get("sha256") or {}
        return {str(k): str(v) for k, v in digests.items()} if isinstance(digests, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def read_runs(out: Path, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """``runs.parquet``, verified (SHA-256 and page checksums)."""
    path = verify(out, "runs.parquet", manifest)
    try:
        return read_parquet(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            f"runs.parquet cannot be read ({str(exc).splitlines()[0][:120]}); rebuild it with: "
            f"{resume_hint(out, manifest)}",
            source=str(out),
        ) from None


MANIFEST_KEYS = ("fingerprint", "spec_yaml", "points", "seeds", "parameters", "base_scenario", "source")


def read_manifest(out: Path) -> dict[str, Any]:
    """``sweep.json``, checked to be complete; a damaged one says how to rebuild it."""
    path = Path(out) / "sweep.json"
    if not path.is_file():
        raise InputError("not a sweep folder (no sweep.json)", source=str(out))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or any(k not in data for k in MANIFEST_KEYS):
            raise ValueError("fields are missing")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"sweep.json is damaged ({str(exc).splitlines()[0][:80]}); rebuild it by running the sweep again "
            f"with --out {out} --resume (finished chunks are kept)",
            source=str(out),
        ) from None
    return data


QUERY_TYPES = ("SELECT",)


def query(out: Path, sql: str) -> pd.DataFrame:
    """Run one SELECT statement with DuckDB over the sweep's ``runs`` and ``series`` tables.

    The connection is in memory, may read only this sweep folder (no other file, no
    network, no extension install or load; settings locked), and takes one SELECT, so a
    query can neither read nor write anything else.
    """
    import duckdb

    out = Path(out)
    manifest = read_manifest(out)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError(str(exc).splitlines()[0], source="SQL") from None
    if len(statements) != 1:
        raise InputError(f"give exactly one statement, got {len(statements)}", source="SQL")
    kind = statements[0].type.name
    if kind not in QUERY_TYPES:
        raise InputError(f"only SELECT queries are allowed (read-only), got {kind}", source="SQL")
    tables = {t: verify(out, f"{t}.parquet", manifest) for t in ("runs", "series") if (out / f"{t}.parquet").exists()}
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for table, path in tables.items():
            view = f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{_sql_text(path.resolve())}')"  # noqa: S608 - our table name, an escaped path
            con.execute(view)
        folder = str(out.resolve()).rstrip("/") + "/"
        con.execute(f"SET allowed_directories = ['{_sql_text(folder)}']")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con.execute(statements[0].query).df()
    except duckdb.Error as exc:
        raise InputError(str(exc).splitlines()[0], source="SQL") from None
    finally:
        con.close()


def _sql_text(value: object) -> str:
    return str(value).replace("'", "''")
