"""Running a sweep through any ``concurrent.futures`` executor, resumably.

``run_sweep(sweep, out, executor=...)`` follows the shape of Mesa's planned
``run_scenarios(scenarios, config, executor=..., store=...)``: the design says what to
run, the executor where (in this process, a local process pool, or a Dask cluster via
``Client.get_executor()``), and the folder is the store. Chunks are gathered into batches
whose runs a worker simulates as one vectorised ensemble (``batch:`` in the sweep file);
batches are submitted a few at a time, so memory stays flat for any sweep size; workers
write their own chunk files, so the driver only counts, and a resumed sweep redoes only the
chunks that are missing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib
import math
import multiprocessing
import os
import shlex
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim.errors import InputError
from sim.experiments import store
from sim.experiments.spec import OUTCOME_NAMES, Sweep, resolved_yaml
from sim.experiments.worker import ChunkReport, ChunkTask, run_batch
from sim.inputs.schema import Scenario
from sim.reports.files import atomic_write_text, clean_stale, disk_problem, environment, to_json
from sim.runs.inline import InlineExecutor
from sim.runs.resources import (
    BATCHED_SECONDS_PER_CUSTOMER_PERIOD,
    BATCHED_SECONDS_PER_RUN,
    ENSEMBLE_BYTES_PER_CUSTOMER,
    PROCESS_BYTES,
    SWEEP_ROW_BYTES,
    SWEEP_ROW_DISK,
    Estimate,
    model_bytes,
    run_seconds,
    simulated_periods,
)
from sim.runs.signals import EXIT_INTERRUPTED, die_with_parent, exit_code

ENSEMBLE_ROWS = 50_000  # customers simulated together in one batch, by default (flat speed from ~15,000 up)
MAX_BATCH = 256  # runs per batch at most, by default
RESERVED = {"key", "point", "replicate", "seed", "label", "status", "error", "outcome", "period"}
Progress = Callable[[ChunkReport], None]
Log = Callable[[str], None]


class SweepAborted(Exception):
    """The sweep stopped before finishing (a worker died, a disk filled, or it was interrupted); resume it.

    ``code`` is the exit code the CLI returns: 1 a worker died, 2 the disk refused a write,
    130 Ctrl-C (SIGINT), 143 SIGTERM.
    """

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@dataclass
class SweepResult:
    """A finished sweep: where it is, what ran, and how it went."""

    out: Path
    summary: dict[str, Any]
    skipped_chunks: int = 0
    reports: list[ChunkReport] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return int(self.summary["failed"])


ENGINE = "sim.runs.runner"  # what a worker runs: imported (Mesa, numba) before the pool starts


def _init_worker() -> None:
    """Workers leave Ctrl-C to the driver (which stops cleanly and says how to resume), end at once on
    SIGTERM (not the driver's handler, inherited through fork), and die with the driver. What a worker
    starts with (modules, the driver's heap) lives as long as it does: the garbage collector leaves it
    alone (``gc.freeze``), so freeing a batch (:func:`sim.runs.resources.release_free_memory`) costs
    milliseconds from the first batch on."""
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()


@contextlib.contextmanager
def make_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[tuple[Executor, int]]:
    """The executor for a sweep and how many tasks it runs at once.

    Dask at ``scheduler``; else ``workers`` local processes (default: one per core), or
    this process alone when ``workers`` is 1.
    """
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("needs Dask: pip install 'procsim[cluster]'", field="--scheduler") from None
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", field="--scheduler") from None
        try:
            yield client.get_executor(pure=False), max(sum(client.nthreads().values()), 1)
        finally:
            client.close()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield InlineExecutor(), 1
        return
    importlib.import_module(ENGINE)  # forked workers start with the engine loaded, not each importing it
    with ProcessPoolExecutor(max_workers=workers, mp_context=_start_method(), initializer=_init_worker) as pool:
        pool.submit(os.getpid).result()  # start every worker now, before the caller starts any thread
        yield pool, workers


def _start_method() -> multiprocessing.context.BaseContext:
    """fork while this process has one thread: workers start at once with procsim already imported
    (importing Mesa alone takes over a second); otherwise forkserver, never a fork of a threaded process."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.experiments.worker", ENGINE])
    return context


def column_names(paths: list[str]) -> dict[str, str]:
    """Table column of each swept path: its last part when unambiguous, else the path with underscores."""
    last = Counter(p.rsplit(".", 1)[-1] for p in paths)
    out = {}
    for path in paths:
        short = path.rsplit(".", 1)[-1]
        out[path] = short if last[short] == 1 and short not in RESERVED else path.replace(".", "_")
    return out


def _halt(executor: Executor) -> None:
    """Stop a process pool now: kill its workers (their chunks in flight are redone on --resume)."""
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        with contextlib.suppress(Exception):
            terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
    if isinstance(executor, ProcessPoolExecutor):
        executor.shutdown(wait=False, cancel_futures=True)


def tasks(sweep: Sweep, out: Path, skip: set[tuple[int, int]] = frozenset()) -> Iterator[ChunkTask]:
    """The chunks still to run, in design order."""
    columns = column_names(sweep.parameters)
    fingerprint = sweep.fingerprint()
    points = {p.id: p for p in sweep.points}
    for point_id, block, replicates in sweep.chunks():
        if (point_id, block) in skip:
            continue
        point = points[point_id]
        yield ChunkTask(
            str(out),
            point_id,
            block,
            point.label,
            point.params,
            columns,
            replicates,
            [sweep.seeds[r] for r in replicates],
            sweep.base,
            sweep.source,
            sweep.spec.outputs.series,
            sweep.spec.outputs.every,
            fingerprint,
        )


def batch_size(sweep: Sweep, slots: int) -> int:
    """Runs per batch: the sweep file's ``batch``, or by size (about ENSEMBLE_ROWS customers per ensemble,
    and at least four batches per worker so the workers share the sweep evenly)."""
    if sweep.spec.batch != "auto":
        return int(sweep.spec.batch)
    try:
        customers = sweep.scenario(sweep.points[0]).n_customers if sweep.points else 1
    except InputError:
        customers = 1
    spread = -(-sweep.total_runs // (4 * max(slots, 1)))
    return max(1, min(ENSEMBLE_ROWS // max(customers, 1), spread, MAX_BATCH))


def batches(todo: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive chunks (anything with ``seeds``) gathered into batches of about ``size`` runs (a larger
    chunk is a batch of its own)."""
    batch: list[Any] = []
    runs = 0
    for task in todo:
        if batch and runs + len(task.seeds) > size:
            yield batch
            batch, runs = [], 0
        batch.append(task)
        runs += len(task.seeds)
    if batch:
        yield batch


@dataclass(frozen=True)
class Plan:
    """What a sweep will do, before it runs (``procsim sweep --dry-run``)."""

    points: int
    runs: int
    chunks: int
    batches: int
    batch_size: int
    workers: int
    estimate: Estimate


@dataclass(frozen=True)
class _Sized:
    seeds: list[int]


def plan(sweep: Sweep, scenario: Scenario, workers: int) -> Plan:
    """The sweep's points, runs, chunks and batches on ``workers`` workers, and the resource guard's estimate
    for its largest market ``scenario``; nothing is run or written."""
    size = batch_size(sweep, workers)
    chunks = sweep.chunks()
    count = sum(1 for _ in batches([_Sized(reps) for _, _, reps in chunks], size))
    estimate = for_sweep(sweep, scenario, workers)
    return Plan(len(sweep.points), sweep.total_runs, len(chunks), count, size, workers, estimate)


def manifest(sweep: Sweep, command: list[str] | None) -> dict[str, Any]:
    """sweep.json: what was asked, enough to resume it and to know what produced it."""
    return {
        "sweep": sweep.name,
        "description": sweep.spec.description,
        "source": sweep.source,
        "fingerprint": sweep.fingerprint(),
        "design": sweep.spec.design.kind,
        "parameters": column_names(sweep.parameters),
        "points": [{"id": p.id, "label": p.label, "params": p.params} for p in sweep.points],
        "seeds": sweep.seeds,
        "total_runs": sweep.total_runs,
        "chunks": len(sweep.chunks()),
        "spec_yaml": resolved_yaml(sweep),
        "base_scenario": sweep.base,
        "environment": environment(),
        "command": command,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def prepare(
    sweep: Sweep, out: Path, *, resume: bool, command: list[str] | None = None, log: Log | None = None
) -> set[tuple[int, int]]:
    """Create the folder (or check it on resume) and return the chunks already done.

    On resume every finished chunk is verified; a damaged one is removed (and run again),
    and a damaged ``sweep.json`` is rebuilt when every chunk carries this sweep's fingerprint.
    """
    say = log or (lambda _msg: None)
    existing = out / "sweep.json"
    if out.is_symlink() and not out.exists():
        raise InputError("is a broken symbolic link; remove it or choose another --out", source=str(out))
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; choose another --out", source=str(out))
    clean_stale(out.parent)
    if resume:
        if not existing.is_file():
            raise InputError("nothing to resume here (no sweep.json); run without --resume first", source=str(out))
        fingerprint = sweep.fingerprint()
        try:
            previous: dict[str, Any] | None = store.read_manifest(out)
        except InputError:
            previous = None  # damaged: rebuilt below if the chunks vouch for this sweep
        if previous is not None and previous.get("fingerprint") != fingerprint:
            raise InputError(
                "this folder holds a different sweep (the sweep file, its base scenario or the "
                "code's defaults changed); use a new --out",
                source=str(out),
            )
        store.clean_partials(out)
        clean_stale(out)
        check = store.check_chunks(out, fingerprint)
        if previous is None:
            atomic_write_text(existing, to_json(manifest(sweep, command)))
            say(f"sweep.json was damaged; rebuilt it from {sweep.source} ({len(check.done)} finished chunk(s) match)")
        if check.damaged:
            names = "; ".join(f"{name}: {why}" for name, why in list(check.damaged.items())[:5])
            more = f" and {len(check.damaged) - 5} more" if len(check.damaged) > 5 else ""
            say(f"re-running {len(check.damaged)} damaged chunk(s): {names}{more}")
        return check.done
    if out.exists() and any(out.iterdir()):
        raise InputError(
            "exists and is not empty; add --resume to finish that sweep, or choose another --out", source=str(out)
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", source=str(out)) from None
    atomic_write_text(existing, to_json(manifest(sweep, command)))
    return set()


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    command: list[str] | None = None,
    max_in_flight: int | None = None,
    log: Log | None = None,
) -> SweepResult:
    """Run every chunk not yet done, then compact the results into runs.parquet and series.parquet.

    ``max_in_flight`` bounds the batches submitted at once (default: twice the executor's
    slots), which keeps memory flat and lets an interrupted sweep lose little.
    Raises :class:`SweepAborted` if a worker dies, a write fails for lack of space or
    permission, or the run is interrupted (Ctrl-C or SIGTERM): the workers are stopped,
    finished chunks stay on disk and ``resume=True`` completes the sweep with identical results.
    """
    out = Path(out)
    start = time.perf_counter()
    done = prepare(sweep, out, resume=resume, command=command, log=log)
    todo = list(tasks(sweep, out, done))
    reports: list[ChunkReport] = []
    published: dict[str, pa.Table] = {}  # the chunk files this session wrote, as tables (no need to read them back)
    with contextlib.ExitStack() as stack:
        slots = getattr(executor, "_max_workers", None) or 4
        if executor is None:
            executor, slots = stack.enter_context(make_executor())
        limit = max_in_flight or 2 * slots
        pending: set[Future] = set()
        size = batch_size(sweep, slots)
        queue = iter(batches(todo, size))
        try:
            while True:
                while len(pending) < limit:
                    batch = next(queue, None)
                    if batch is None:
                        break
                    pending.add(executor.submit(run_batch, batch, size))
                if not pending:
                    break
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    for report in future.result():
                        published.update(report.tables or {})
                        report = replace(report, tables=None)  # noqa: PLW2901 - the tables are kept once, above
                        reports.append(report)
                        if progress:
                            progress(report)
        except BrokenProcessPool:
            _stop(executor, pending)
            raise SweepAborted(_aborted_message(sweep, out, command, "a worker process died")) from None
        except KeyboardInterrupt as exc:
            _stop(executor, pending)
            raise SweepAborted(_aborted_message(sweep, out, command, _stopped_by(exc)), exit_code(exc)) from None
        except OSError as exc:
            problem = disk_problem(exc)
            if problem is None:
                raise
            _stop(executor, pending)
            raise SweepAborted(_aborted_message(sweep, out, command, problem), 2) from None
    try:
        runs, _series, digests = store.compact(out, published)
    except KeyboardInterrupt as exc:
        why = f"{_stopped_by(exc)} while gathering the chunks"
        raise SweepAborted(_aborted_message(sweep, out, command, why), exit_code(exc)) from None
    summary = sweep_summary(sweep, runs, time.perf_counter() - start, len(done))
    summary["sha256"] = digests
    atomic_write_text(out / "summary.json", to_json(summary))
    return SweepResult(out, summary, len(done), reports)


def _stopped_by(exc: KeyboardInterrupt) -> str:
    return "interrupted" if exit_code(exc) == EXIT_INTERRUPTED else "terminated by SIGTERM"


def _stop(executor: Executor, pending: set[Future]) -> None:
    for future in pending:
        future.cancel()
    _halt(executor)


def resume_command(sweep: Sweep, out: Path, command: list[str] | None) -> str:
    """The command that finishes this sweep: the one that started it, with --resume (and --out)."""
    if not command:
        return store.resume_hint(out, {"source": sweep.source})
    return resumed(command, out)


def resumed(command: list[str], out: Path) -> str:
    """A command line with ``--out`` (unless it names one) and ``--resume``, as a shell would take it."""
    args = list(command)
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(out)]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(args)


def _aborted_message(sweep: Sweep, out: Path, command: list[str] | None, why: str) -> str:
    done = len(store.done_chunks(out))
    return (
        f"sweep stopped ({why}) with {done} chunk(s) complete in {out}; "
        f"finish it with: {resume_command(sweep, out, command)}"
    )


def sweep_summary(sweep: Sweep, runs: pa.Table, wall_seconds: float, resumed_chunks: int) -> dict[str, Any]:
    """Counts of runs, failures and outcomes, and the first failures with their parameters."""
    rows = runs.num_rows
    status = runs.column("status").to_pylist() if rows else []
    outcomes = Counter(runs.column("outcome").to_pylist() if rows else [])
    failed = [i for i, s in enumerate(status) if s == "failed"]
    first = runs.select(["key", "point", "seed", "error"]).take(failed[:20]).to_pylist() if failed else []
    return {
        "sweep": sweep.name,
        "runs": rows,
        "ok": rows - len(failed),
        "failed": len(failed),
        "outcomes": {k: outcomes[k] for k in OUTCOME_NAMES},
        "failures": [{"key": r["key"], "point": r["point"], "seed": r["seed"], "error": r["error"]} for r in first],
        "resumed_chunks": resumed_chunks,
        "wall_seconds": round(wall_seconds, 3),
        "python": sys.version.split()[0],
    }


def for_sweep(sweep: Sweep, scenario: Scenario, workers: int) -> Estimate:
    """``procsim sweep``: one batch (an ensemble of runs) per worker; at the end the driver gathers every row
    into two files."""
    runs = sweep.total_runs
    n, periods = scenario.n_customers, scenario.periods
    kept = {"every": periods, "every_k": math.ceil(periods / sweep.spec.outputs.every) + 1, "final": 1, "none": 0}
    rows = runs * (1 + kept[sweep.spec.outputs.series])
    batch = min(batch_size(sweep, workers), runs)
    chunk_rows = max(batch, sweep.spec.chunk_size) * kept["every"] * SWEEP_ROW_BYTES
    ensemble = model_bytes(n) if batch == 1 else batch * n * ENSEMBLE_BYTES_PER_CUSTOMER
    per_worker = PROCESS_BYTES + ensemble + chunk_rows
    memory = max(workers * per_worker, 0) + PROCESS_BYTES + 2 * rows * SWEEP_ROW_BYTES
    simulated = simulated_periods(scenario)
    if batch == 1:
        one = run_seconds(n, simulated)
    else:
        one = BATCHED_SECONDS_PER_RUN + BATCHED_SECONDS_PER_CUSTOMER_PERIOD * n * simulated
    seconds = runs * one / max(workers, 1)
    return Estimate(f"{runs:,} runs of {n:,} customers", memory, 2 * rows * SWEEP_ROW_DISK, seconds)
