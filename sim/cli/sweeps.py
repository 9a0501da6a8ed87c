"""``procsim sweep``, ``query`` and ``analyze``: many runs, their results and their analysis."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from sim.cli.common import EXIT_FAILED_RUNS, EXIT_OK, _guard, _progress
from sim.errors import InputError, clean, excerpt


def cmd_sweep(args: argparse.Namespace) -> int:
    import copy

    from sim.experiments import SweepAborted, load_sweep, make_executor, run_sweep
    from sim.experiments.runner import for_sweep
    from sim.inputs.loading import build_scenario
    from sim.reports.files import check_place

    if args.scheduler and args.workers:
        raise InputError(
            "give --workers or --scheduler, not both (a Dask cluster has its own workers)", field="--workers"
        )
    sweep = load_sweep(args.sweep)
    root = Path("results") / "sweeps"
    out = args.out or root / sweep.name
    if args.out is None and not Path(os.path.abspath(out)).is_relative_to(os.path.abspath(root)):
        raise InputError(
            f"the sweep name {excerpt(sweep.name)} leads outside {root}", source=sweep.source, field="name"
        )
    check_place(out)
    if not args.scheduler:
        workers = args.workers or os.cpu_count() or 1
        # the largest market among the points that change its size (the base if none does)
        sizing = [p for p in sweep.points if any(k.endswith(("count", "periods")) for k in p.params)][:1000]
        scenarios = [sweep.scenario(p) for p in sizing] or [build_scenario(copy.deepcopy(sweep.base), sweep.source)]
        base = max(scenarios, key=lambda s: s.n_customers * s.periods)
        _guard(for_sweep(sweep, base, workers), out, args, sweep.source)
    command = ["procsim", *sys.argv[1:]]
    with (
        make_executor(args.workers, args.scheduler) as (executor, slots),
        _sweep_progress(sweep.total_runs, sweep.name, args.quiet) as tick,
    ):
        try:
            result = run_sweep(
                sweep,
                out,
                executor=executor,
                resume=args.resume,
                progress=tick,
                command=command,
                max_in_flight=2 * slots,
                log=lambda msg: print(f"procsim: {msg}", file=sys.stderr),
            )
        except SweepAborted as exc:
            print(f"procsim: {exc}", file=sys.stderr)
            return exc.code
    s = result.summary
    counts = ", ".join(f"{k} {v}" for k, v in s["outcomes"].items() if v)
    print(f"{sweep.name}: {s['runs']} runs ({counts}); {s['failed']} failed; {s['wall_seconds']:.1f} s")
    for failure in s["failures"][:3]:
        print(f"  failed {failure['key']} (seed {failure['seed']}): {clean(failure['error'], 300)}", file=sys.stderr)
    print(f"results: {result.out / 'runs.parquet'}  (next: procsim analyze {result.out})")
    return EXIT_FAILED_RUNS if s["failed"] else EXIT_OK


def _sweep_progress(total: int, label: str, quiet: bool):
    """Runs done, failures and ETA on stderr (terminals only); yields a per-chunk callback."""
    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    @contextlib.contextmanager
    def bar():
        failed = 0
        columns = (
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs, {task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns) as progress:
            task = progress.add_task(label, total=total, failed=0)

            def tick(report) -> None:
                nonlocal failed
                failed += report.failed
                progress.update(task, advance=report.runs, failed=failed)

            yield tick

    return bar()


def cmd_query(args: argparse.Namespace) -> int:
    from sim.experiments import query

    def warn(message: str) -> None:
        print(f"procsim: warning: {clean(message, 600)}", file=sys.stderr)

    frame = query(args.folder, args.sql, timeout=args.timeout, max_rows=args.max_rows, warn=warn)
    if args.csv:
        from sim.reports.cells import spreadsheet_frame

        spreadsheet_frame(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(frame.to_string(index=False))
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from sim.experiments.analysis import analyze, tipping_estimate

    tipping = not args.no_tipping
    if tipping:
        estimate = tipping_estimate(args.folder, args.workers)
        if estimate is not None:
            _guard(estimate, args.folder, args)
    result = analyze(
        args.folder,
        workers=args.workers,
        tipping=tipping,
        log=None if args.quiet else print,
        progress=lambda total, label: _progress(total, label, args.quiet, minimum=1),
    )
    print(f"analysis: {result.html}")
    return EXIT_OK
