"""A 1,000-run sweep of the `baseline` scenario (40 periods): one worker against two.

    python benchmarks/bench_sweep.py                 # 1,000 runs, 1 and 2 workers
    python benchmarks/bench_sweep.py --runs 200      # quicker look

Figures: runs per second of the whole `run_sweep` (validation, dispatch, workers'
Parquet chunks, compaction), speed-up of two worker processes over one, overhead per run
(sweep time over the same runs called directly in a loop, with one worker), and the peak
resident memory of the driver and of the largest worker.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import yaml


def sweep_file(folder: Path, runs: int) -> Path:
    """``runs`` runs of baseline: 10 savings targets x runs/10 seeds, in chunks of 25."""
    path = folder / "bench.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bench",
                "base": "baseline",
                "set": {"periods": 40},
                "design": {"grid": {"customers.procurement.savings_target": {"from": 0.0, "to": 0.09, "steps": 10}}},
                "replicates": runs // 10,
                "seed": 1,
                "chunk_size": 25,
                "outputs": {"series": "every_k", "every": 4},
            }
        )
    )
    return path


def direct(sweep, n: int) -> float:
    """Seconds per run when the same runs are simulated in a plain loop (no sweep machinery)."""
    from sim.runner import simulate

    scenario = sweep.scenario(sweep.points[0])
    start = time.perf_counter()
    for seed in sweep.seeds[:n]:
        simulate(scenario, seed, record_agents_every=0)
    return (time.perf_counter() - start) / n


def timed_sweep(path: Path, workers: int, out: Path) -> tuple[float, float]:
    """Wall seconds of the whole sweep, and the largest worker's peak RSS in MiB."""
    from sim.experiments import load_sweep, make_executor, run_sweep

    start = time.perf_counter()
    sweep = load_sweep(path)
    with make_executor(workers) as (executor, slots):
        result = run_sweep(sweep, out, executor=executor, max_in_flight=2 * slots)
    return time.perf_counter() - start, max(r.peak_rss_mib for r in result.reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--direct", type=int, default=200, help="runs timed in a plain loop")
    args = parser.parse_args()
    from sim.experiments import load_sweep

    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        path = sweep_file(folder, args.runs)
        sweep = load_sweep(path)
        per_run = direct(sweep, min(args.direct, len(sweep.seeds)))
        one, _ = timed_sweep(path, 1, folder / "one")
        two, worker = timed_sweep(path, 2, folder / "two")
        same = (folder / "one" / "runs.parquet").read_bytes() == (folder / "two" / "runs.parquet").read_bytes()
        driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        n = sweep.total_runs
        print(
            json.dumps(
                {
                    "runs": n,
                    "periods": 40,
                    "customers": sweep.scenario(sweep.points[0]).n_customers,
                    "direct_seconds_per_run": round(per_run, 4),
                    "one_worker_seconds": round(one, 2),
                    "one_worker_runs_per_second": round(n / one, 1),
                    "two_workers_seconds": round(two, 2),
                    "two_workers_runs_per_second": round(n / two, 1),
                    "speed_up": round(one / two, 2),
                    "overhead_ms_per_run": round(1000 * (one / n - per_run), 2),
                    "identical_runs_parquet": same,
                    "peak_rss_mib_driver": round(driver, 1),
                    "peak_rss_mib_largest_worker": round(worker, 1),
                    "python": platform.python_version(),
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
