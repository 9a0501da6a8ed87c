"""``procsim sweep``, ``query`` and ``analyze``: many runs, their results and their analysis."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from sim.cli.common import EXIT_FAILED_RUNS, EXIT_INPUT, EXIT_OK, _guard, _progress
from sim.errors import InputError, clean, excerpt


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiments import SweepAborted, load_sweep, make_executor, run_sweep
    from sim.experiments.runner import for_sweep
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
    if args.dry_run:
        return _dry_run(sweep, out, args)
    check_place(out)
    if not args.scheduler:
        workers = args.workers or os.cpu_count() or 1
        _guard(for_sweep(sweep, _largest_market(sweep), workers), out, args, sweep.source)
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


def _largest_market(sweep):
    """The largest market among the design points that change its size (the base scenario if none does)."""
    import copy

    from sim.inputs.loading import build_scenario

    sizing = [p for p in sweep.points if any(k.endswith(("count", "periods")) for k in p.params)][:1000]
    scenarios = [sweep.scenario(p) for p in sizing] or [build_scenario(copy.deepcopy(sweep.base), sweep.source)]
    return max(scenarios, key=lambda s: s.n_customers * s.periods)


def _dry_run(sweep, out: Path, args: argparse.Namespace) -> int:
    """Print what the sweep would do and cost (the resource guard's estimate, its verdict); write nothing."""
    from sim.experiments.labels import describe
    from sim.experiments.runner import plan
    from sim.runs.resources import check

    workers = args.workers or os.cpu_count() or 1
    scenario = _largest_market(sweep)
    made = plan(sweep, scenario, workers)
    spec = sweep.spec
    sample = getattr(spec.design, spec.design.kind, None) if spec.design.kind in ("lhs", "sobol", "morris") else None
    if sample is not None:  # sampled: each parameter's range
        axes = ", ".join(f"{clean(describe(p).name, 60)} {describe(p).span(*sample.bounds[p])}" for p in sample.bounds)
    else:  # grid and what-ifs: how many values each parameter takes
        values: dict[str, set[str]] = {}
        for point in sweep.points:
            for path, value in point.params.items():
                values.setdefault(path, set()).add(repr(value))
        axes = " x ".join(f"{clean(describe(p).name, 60)} ({len(values.get(p, ()))})" for p in sweep.parameters)
    kept = {
        "every": "every period",
        "every_k": f"every {spec.outputs.every} periods and the last",
        "final": "the last period",
        "none": "none",
    }[spec.outputs.series]
    batch = "one by one" if made.batch_size == 1 else f"up to {made.batch_size:,} runs each"
    where = "new"
    if out.is_dir() and any(out.iterdir()):
        from sim.experiments.store import done_chunks

        sealed = len(done_chunks(out))
        where = f"exists, {sealed:,} of {made.chunks:,} chunks sealed: --resume runs the rest"
    lines = [
        f"sweep {clean(sweep.name, 100)} ({clean(sweep.source, 200)}): {spec.design.kind} design",
        f"  design points  {made.points:,}: {axes}",
        f"  runs           {made.runs:,} ({made.points:,} points x {len(sweep.seeds):,} seeds)",
        f"  chunks         {made.chunks:,} files of up to {spec.chunk_size:,} runs",
        f"  batches        {made.batches:,} ({batch}; batch: {spec.batch}) on {workers} worker(s)",
        f"  series kept    {kept}",
        f"  estimate       {made.estimate.describe()}",
        f"  output folder  {clean(str(out), 200)} ({where})",
    ]
    if args.scheduler:
        lines.append("  (estimated for local workers; a Dask cluster's workers share the runs their own way)")
    print("\n".join(lines))
    try:
        check(made.estimate, out if out.exists() else out.parent if out.parent.exists() else None, force=args.force)
    except InputError as exc:
        print(f"procsim: error: {exc} (dry run: nothing was run or written)", file=sys.stderr)
        return EXIT_INPUT
    print("dry run: nothing was run or written; this machine can hold it")
    return EXIT_OK


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
    _print_analysis(result, args.quiet)
    print(f"analysis: {result.html}")
    return EXIT_OK


def _print_analysis(result, quiet: bool) -> None:
    """The answer, the robustness table and the warnings, as the page states them (the same sentences and cells)."""
    from sim.experiments.page import robustness_rows
    from sim.experiments.spec import sweep_from_manifest
    from sim.experiments.store import read_manifest

    if not quiet:
        if result.tipping is not None:
            from sim.experiments.page import tipping_sentence

            print(tipping_sentence(result, sweep_from_manifest(read_manifest(result.folder))))
        if result.robustness is not None:
            header, rows, numeric = robustness_rows(result.robustness, result)
            rows = [[clean(c, 80) for c in row] for row in rows[:20]]
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
            line = "  ".join
            print(f"robustness ({len(result.robustness.table)} lever settings; analysis/robustness.csv):")
            print(line(h.rjust(w) if n else h.ljust(w) for h, w, n in zip(header, widths, numeric, strict=True)))
            for row in rows:
                print(line(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True)))
    for caveat in result.caveats:
        print(f"procsim: warning: {clean(str(caveat), 600)}", file=sys.stderr)
