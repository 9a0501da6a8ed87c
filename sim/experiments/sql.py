"""SQL over a sweep's results (``procsim query``): read-only, confined to the sweep folder, and bounded.

A query is one SELECT over the ``runs`` table (and ``series``, when the sweep kept any),
on an in-memory DuckDB connection that may read this sweep folder only: no other file, no
temporary folder, no network, no extension, settings locked. It is bounded in time
(interrupted), memory (DuckDB's limit; nothing spills to disk) and rows (fetched up to the
limit, the rest counted), and Ctrl-C or SIGTERM interrupts DuckDB at once. Result files are
verified against the SHA-256 that ``summary.json`` records; one it does not record is
queried with a warning.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import InputError
from sim.experiments.store import _recorded_digests, read_manifest, resume_hint, verify

QUERY_TYPES = ("SELECT",)
QUERY_TABLES = ("runs", "series")
QUERY_SECONDS = 60.0  # default time limit of a query
QUERY_ROWS = 100_000  # default number of rows a query returns (the rest are counted, not fetched)
QUERY_MEMORY = 2 * 2**30  # DuckDB's memory limit, at most (half the memory available, if that is less)


@dataclass
class _Work:
    """A query running in a thread: its connection while it runs, then its answer or its error."""

    con: Any = None
    frame: pd.DataFrame | None = None
    total: int | None = None
    error: BaseException | None = None


def query(
    out: Path,
    sql: str,
    *,
    timeout: float = QUERY_SECONDS,
    max_rows: int = QUERY_ROWS,
    warn: Any = None,
) -> pd.DataFrame:
    """Run one SELECT statement with DuckDB over the sweep's ``runs`` (and, when kept, ``series``) tables.

    The connection is in memory, may read only this sweep folder (no other file, no temporary
    folder, no network, no extension install or load; settings locked), and takes one SELECT,
    so a query can neither read nor write anything else. It is bounded: ``timeout`` seconds
    (then interrupted), a memory limit, and at most ``max_rows`` rows fetched (how many were
    cut is said through ``warn``). Ctrl-C or SIGTERM interrupts DuckDB at once. ``warn`` (a
    function of a message; default :func:`warnings.warn`) also hears of a result file whose
    SHA-256 summary.json does not record, which therefore cannot be verified.
    """
    say = warn or (lambda message: warnings.warn(message, stacklevel=3))
    out = Path(out)
    manifest = read_manifest(out)
    tables = _query_tables(out, manifest, say)
    work = _run_bounded(lambda work: _session(work, out, tables, sql, max_rows), timeout)
    if work.error is not None or work.frame is None:
        raise _query_error(work.error, tables, timeout) from None
    if work.total is not None and work.total != len(work.frame):
        total = f"{work.total:,}" if work.total >= 0 else f"more than {max_rows:,}"
        say(f"showing the first {max_rows:,} of {total} rows; --max-rows sets how many are shown")
    return work.frame


def _session(work: _Work, out: Path, tables: dict[str, Path], sql: str, max_rows: int) -> None:
    """Check the statement, open the confined connection, fetch the rows (and count the rest); close it.

    Runs in its own thread: DuckDB then never sees the main thread's signals (one arriving while
    DuckDB itself checks for them could abort the process); the main thread interrupts it instead.
    """
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError(str(exc).splitlines()[0], source="SQL") from None
    if len(statements) != 1:
        raise InputError(f"give exactly one statement, got {len(statements)}", source="SQL")
    kind = statements[0].type.name
    if kind not in QUERY_TYPES:
        raise InputError(f"only SELECT queries are allowed (read-only), got {kind}", source="SQL")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    work.con = con
    relation = None
    try:
        for table, path in tables.items():
            view = f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{_sql_text(path.resolve())}')"  # noqa: S608 - our table name, an escaped path
            con.execute(view)
        folder = str(out.resolve()).rstrip("/") + "/"
        con.execute("SET temp_directory = ''")  # nothing spills to disk, and no temporary folder becomes readable
        con.execute(f"SET memory_limit = '{_memory_limit() // 2**20}MiB'")
        con.execute(f"SET allowed_directories = ['{_sql_text(folder)}']")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        relation = con.sql(statements[0].query)
        frame = relation.limit(max_rows + 1).df()
        if len(frame) <= max_rows:
            work.frame = frame
            return
        work.frame, work.total = frame.iloc[:max_rows], -1  # more than max_rows, until they are counted
        with contextlib.suppress(duckdb.Error):  # stopped while counting: the rows are there, not their number
            work.total = int(relation.aggregate("count(*)").fetchall()[0][0])
    finally:
        del relation  # a pending relation keeps the connection busy
        work.con = None
        con.close()


def _query_tables(out: Path, manifest: dict[str, Any], say: Any) -> dict[str, Path]:
    """The tables a query may name: ``runs`` always, ``series`` when the sweep kept any; each verified."""
    recorded = _recorded_digests(out)
    tables = {}
    for table in QUERY_TABLES:
        path = out / f"{table}.parquet"
        if table != "runs" and not path.exists():
            continue
        tables[table] = verify(out, path.name, manifest)
        if path.name not in recorded:
            say(
                f"{out}: summary.json records no SHA-256 for {path.name}, so it cannot be checked for damage or "
                f"changes; rebuild it with: {resume_hint(out, manifest)}"
            )
        if table != "runs":
            try:
                kept = len(pq.read_schema(path)) > 0
            except (OSError, pa.ArrowException):
                kept = True  # let DuckDB say what is wrong with it
            if not kept:
                del tables[table]
    return tables


def _memory_limit() -> int:
    from sim.runs.resources import available_memory

    free = available_memory()
    return max(256 * 2**20, min(QUERY_MEMORY, free // 2 if free else QUERY_MEMORY))


def _run_bounded(session: Any, timeout: float) -> _Work:
    """Run ``session(work)`` in a thread; interrupt its DuckDB connection on time-out, Ctrl-C or SIGTERM."""
    import threading
    import time

    import duckdb

    work, began, done, stopping = _Work(), threading.Event(), threading.Event(), threading.Event()

    def run() -> None:
        began.set()
        try:
            if not stopping.is_set():
                session(work)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which reports it
            work.error = exc.with_traceback(None)  # no frame of this thread kept: the connection must close
        finally:
            done.set()

    def stop() -> None:
        """Interrupt DuckDB until the thread is done (an interrupt that comes before a query starts is lost)."""
        stopping.set()
        while not done.wait(0.05):
            con = work.con
            if con is not None:
                with contextlib.suppress(duckdb.Error):  # closed in between: the thread is finishing
                    con.interrupt()

    # Waiting on an event, not on Thread.join: a signal that interrupts join() can leave the thread marked as
    # finished while it still runs (CPython's bpo-45274 handling), and the connection busy when it is closed.
    deadline = time.monotonic() + timeout
    try:
        threading.Thread(target=run, name="procsim-query", daemon=True).start()
    except BaseException:  # a signal while starting: the thread may run or not; if it does, it does nothing
        stopping.set()
        if began.wait(1.0):
            stop()
        raise
    try:
        while not done.wait(min(0.05, max(deadline - time.monotonic(), 0.0))):
            if time.monotonic() >= deadline:
                stop()
                if work.frame is None:  # (a count that ran out of time still leaves the rows)
                    work.error = TimeoutError()
                break
    except BaseException:  # Ctrl-C or SIGTERM (raised here, in the main thread): stop DuckDB, then go on stopping
        stop()
        raise
    return work


def _query_error(exc: BaseException | None, tables: dict[str, Path], timeout: float) -> BaseException:
    """What to raise for a query that failed: a plain message for the user's errors, the error itself otherwise."""
    import duckdb

    if isinstance(exc, TimeoutError):
        return InputError(
            f"the query ran longer than {timeout:g} s and was stopped; narrow it (WHERE, GROUP BY, LIMIT) or allow "
            "more time with --timeout",
            source="SQL",
        )
    if isinstance(exc, duckdb.OutOfMemoryException | MemoryError):
        return InputError(
            f"the query needs more than the {_memory_limit() / 2**30:.1f} GiB of memory a query may use; "
            "aggregate or filter it (GROUP BY, WHERE, LIMIT)",
            source="SQL",
        )
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.CatalogException) and "series" not in tables and "series" in first.lower():
        return InputError(
            "this sweep kept no per-period series (outputs: series: none in its sweep file), so there is no series "
            "table; query the runs table",
            source="SQL",
        )
    if isinstance(exc, duckdb.CatalogException) and "does not exist" in first:
        first += f" (the tables are: {', '.join(tables)})"
    if isinstance(exc, duckdb.Error):
        return InputError(first, source="SQL")
    return exc or RuntimeError("the query gave no answer")


def _sql_text(value: object) -> str:
    return str(value).replace("'", "''")
