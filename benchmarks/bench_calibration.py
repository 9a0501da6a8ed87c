"""Runs per second during a calibration's inference against a batched sweep of the same runs.

    python benchmarks/bench_calibration.py                  # 2,000 runs, 1 and 2 workers, best of 2
    python benchmarks/bench_calibration.py --runs 500 --repeat 1 --workers 1

Everything simulates `procurement_squeeze` over its 40 periods without the outlook. The
calibration is pyabc's ABC-SMC fitting the savings target and margin defense with a budget
of ``--runs`` runs against series the model generated (one seed per parameter set); its
figure is its runs over the wall time of the inference alone (pyabc's proposals, distances,
weights and bookkeeping included; the fit band and the files after it excluded). Against
it: the same tasks without pyabc (``--runs`` parameter sets drawn uniformly, ensembles of up
to 64 runs each with its own parameters, through the same executor), and the batched sweep
as ``bench_sweep.py`` runs it (10 savings targets x ``--runs``/10 seeds, ``batch: auto``, no
series kept; its runs over the whole ``run_sweep``). The engine is imported and
its passes compiled before anything is timed; each configuration runs ``--repeat`` times and
the fastest counts.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import yaml

SAVINGS = "customers.procurement.savings_target"
DEFENSE = "suppliers.margin_defense"


def observed_file(folder: Path) -> Path:
    from sim.inputs.loading import load_scenario
    from sim.runs.runner import simulate

    ts = simulate(
        load_scenario("procurement_squeeze", {SAVINGS: 0.08, DEFENSE: 0.6}), 7, record_agents_every=0, outlook=False
    ).timeseries
    lines = ["period,average discount,supplier margin,capability index"]
    lines += [f"{p},{ts.discount_mean[p]},{ts.supplier_margin[p]},{ts.capability_index[p]}" for p in range(0, 40, 2)]
    path = folder / "observed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def sweep_rate(folder: Path, runs: int, workers: int) -> float:
    from sim.experiments import load_sweep, make_executor, run_sweep

    path = folder / "sweep.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bench",
                "base": "procurement_squeeze",
                "set": {"outlook_periods": 0},
                "design": {"grid": {SAVINGS: {"from": 0.0, "to": 0.18, "steps": 10}}},
                "replicates": runs // 10,
                "seed": 1,
                "chunk_size": 25,
                "batch": "auto",
                "outputs": {"series": "none"},
            }
        )
    )
    out = folder / f"sweep-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    with make_executor(workers=workers) as (executor, slots):
        start = time.perf_counter()
        run_sweep(load_sweep(str(path)), out, executor=executor, max_in_flight=2 * slots)
        return runs / (time.perf_counter() - start)


def calibration(observed: Path, runs: int):
    from sim.calibration.observed import read_observed
    from sim.calibration.spec import Calibration, check_fits, parse_fit
    from sim.inputs.loading import load_scenario

    scenario = load_scenario("procurement_squeeze")
    fits = check_fits(scenario, [parse_fit(f"{SAVINGS}=0..20%"), parse_fit(f"{DEFENSE}=0..1")], {})
    return Calibration(scenario, read_observed(observed, 4), fits, budget=runs, seed=3)


def engine_rate(observed: Path, runs: int, workers: int) -> float:
    """The calibration's own tasks (ensembles of up to 64 runs, each its own parameters) without pyabc."""
    import numpy as np

    from sim.calibration.batches import Simulator
    from sim.experiments import make_executor

    cal = calibration(observed, runs)
    rng = np.random.default_rng(1)
    values = np.column_stack([rng.uniform(0, 0.2, runs), rng.uniform(0, 1, runs)])
    with make_executor(workers=workers) as (executor, _slots):
        start = time.perf_counter()
        Simulator(cal, executor).statistics(0, 0, values)
        return runs / (time.perf_counter() - start)


def calibration_rate(observed: Path, runs: int, workers: int) -> tuple[float, int, int]:
    from sim.calibration.inference import infer
    from sim.experiments import make_executor

    cal = calibration(observed, runs)
    with make_executor(workers=workers) as (executor, _slots):
        start = time.perf_counter()
        fitted = infer(cal, executor=executor)
        wall = time.perf_counter() - start
    return fitted.runs / wall, fitted.runs, len(fitted.generations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import pyabc  # noqa: F401 - imported before timing, as the engine is

    from sim.inputs.loading import load_scenario
    from sim.runs.runner import run_ensemble

    run_ensemble([load_scenario("procurement_squeeze")] * 2, [1, 2], outlook=False)  # compile (or load) the passes
    folder = Path(tempfile.mkdtemp(prefix="bench-calibration-"))
    try:
        observed = observed_file(folder)
        for workers in args.workers:
            sweep = max(sweep_rate(folder, args.runs, workers) for _ in range(args.repeat))
            engine = max(engine_rate(observed, args.runs, workers) for _ in range(args.repeat))
            found = [calibration_rate(observed, args.runs, workers) for _ in range(args.repeat)]
            rate, runs, generations = max(found)
            print(
                json.dumps(
                    {
                        "workers": workers,
                        "runs": runs,
                        "populations": generations,
                        "calibration_runs_per_s": round(rate, 1),
                        "tasks_without_pyabc_runs_per_s": round(engine, 1),
                        "sweep_runs_per_s": round(sweep, 1),
                        "calibration_over_tasks": round(rate / engine, 2),
                        "calibration_over_sweep": round(rate / sweep, 2),
                        "python": platform.python_version(),
                    }
                ),
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
