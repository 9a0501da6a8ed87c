"""``procsim calibrate``: fit a scenario's parameters to observed series; and ``--posterior`` for the others."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK, _guard, _load, _overrides, _progress
from sim.errors import InputError


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.calibration.batches import estimate
    from sim.calibration.observed import read_observed
    from sim.calibration.spec import Calibration, check_fits, parse_fit
    from sim.reports.files import check_out
    from sim.runs.signals import EXIT_INTERRUPTED, exit_code

    if args.scheduler and args.workers:
        raise InputError(
            "give --workers or --scheduler, not both (a Dask cluster has its own workers)", field="--workers"
        )
    _need_pyabc()
    fits = [parse_fit(text) for text in args.fit]
    scenario = _load(args, args.scenario)
    check_fits(scenario, fits, _overrides(args.overrides))
    observed = read_observed(args.observed, scenario.periods_per_year)
    calibration = Calibration(
        scenario,
        observed,
        tuple(fits),
        replicates=args.replicates,
        budget=args.budget,
        population=args.population or 0,
        seed=scenario.seed,
    )
    out = args.out or Path("results") / "calibration" / f"{scenario.name}-{Path(args.observed).stem}"[:100]
    if not args.resume:
        check_out(out)
    if not args.scheduler:
        _guard(estimate(calibration, args.workers or os.cpu_count() or 1), out, args, scenario.source)
    command = ["procsim", *sys.argv[1:]]
    from sim.calibration.output import calibrate
    from sim.experiments import make_executor
    from sim.experiments.runner import resumed

    with (
        make_executor(args.workers, args.scheduler) as (executor, _slots),
        _progress(calibration.budget, "calibrating (runs)", args.quiet, minimum=1) as tick,
    ):
        try:
            result = calibrate(calibration, out, executor=executor, resume=args.resume, progress=tick, command=command)
        except KeyboardInterrupt as exc:
            code = exit_code(exc)
            why = "interrupted" if code == EXIT_INTERRUPTED else "terminated by SIGTERM"
            if (Path(out) / "calibration.json").is_file():
                print(f"procsim: calibration stopped ({why}); finish it with: {resumed(command, out)}", file=sys.stderr)
                return code
            raise
    for key in ("what", "values", "how", "left"):
        print(result.sentences[key])
    print(f"calibrated scenario: {result.out / 'calibrated.yaml'}")
    print(
        f"report: {result.out / 'calibration.html'}  (posterior: posterior.parquet; use it: --posterior {result.out})"
    )
    return EXIT_OK


def _need_pyabc() -> None:
    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise InputError("needs pyabc: pip install 'procsim[calibration]'", field="calibrate") from None
