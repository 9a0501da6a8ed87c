"""A 1,000-run sweep of the `baseline` scenario (40 periods), batched and one run at a time, on 1 and 2 workers.

    python benchmarks/bench_sweep.py                      # 1,000 runs; outlook off and on; batched and not
    python benchmarks/bench_sweep.py --runs 200           # quicker look
    python benchmarks/bench_sweep.py --outlook on --batching on
    python benchmarks/bench_sweep.py --repeat 1                 # one timing per configuration

Figures: runs per second of the whole `run_sweep` (validation, dispatch, the workers'
Parquet chunks, compaction) for each combination of the outlook (off: `outlook_periods:
0`, the runs the issue's "today" figure measured; on: the default, each run projected up to
200 periods past the horizon), batching (`batch: 1`, every run on its own, against
`batch: auto`, runs simulated together as one ensemble) and workers (1: in this process;
2: two worker processes), the speed-up of batching and of two workers, the peak resident
memory of the largest worker, and whether every configuration of a mode wrote the same
runs.parquet bytes. Each configuration runs ``--repeat`` times (default 3) and the fastest
counts, as ``timeit`` does: other work on the machine only ever slows a run down, so the
fastest is the best estimate of what the code costs (the JSON lines give every time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import yaml


def sweep_file(folder: Path, runs: int, outlook: bool, batch: int | str) -> Path:
    """``runs`` runs of baseline: 10 savings targets x runs/10 seeds, in chunks of 25."""
    path = folder / f"bench-{'outlook' if outlook else 'horizon'}-{batch}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bench",
                "base": "baseline",
                "set": {"periods": 40, **({} if outlook else {"outlook_periods": 0})},
                "design": {"grid": {"customers.procurement.savings_target": {"from": 0.0, "to": 0.09, "steps": 10}}},
                "replicates": runs // 10,
                "seed": 1,
                "chunk_size": 25,
                "batch": batch,
                "outputs": {"series": "every_k", "every": 4},
            }
        )
    )
    return path


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
    parser.add_argument("--outlook", choices=["both", "on", "off"], default="both")
    parser.add_argument("--batching", choices=["both", "on", "off"], default="both")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="timings per configuration; the fastest counts")
    args = parser.parse_args()
    import sim  # noqa: F401  (imports before timing, as in a worker)

    modes = {"both": [False, True], "on": [True], "off": [False]}
    batching = {"both": [1, "auto"], "on": ["auto"], "off": [1]}[args.batching]
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    rows = []
    try:
        for outlook in modes[args.outlook]:
            outputs = []
            for batch in batching:
                path = sweep_file(folder, args.runs, outlook, batch)
                for workers in args.workers:
                    times, worker_mib = [], 0.0
                    for attempt in range(max(args.repeat, 1)):
                        out = folder / f"{path.stem}-{workers}-{attempt}"
                        seconds, mib = timed_sweep(path, workers, out)
                        times.append(seconds)
                        worker_mib = max(worker_mib, mib)
                        outputs.append(out / "runs.parquet")
                    rows.append(
                        {
                            "outlook": outlook,
                            "batching": batch != 1,
                            "workers": workers,
                            "seconds": round(min(times), 2),
                            "runs_per_second": round(args.runs / min(times), 1),
                            "seconds_each": [round(t, 2) for t in times],
                            "peak_rss_mib_largest_worker": round(worker_mib, 1),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
            same = len({p.read_bytes() for p in outputs}) == 1
            for row in rows:
                if row["outlook"] == outlook:
                    row["identical_runs_parquet"] = same
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{args.runs} runs of baseline (3 suppliers, 300 customers, 40 periods); python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"{'outlook':>8} {'batching':>9} {'workers':>8} {'seconds':>8} {'runs/s':>8} {'vs 1 run':>9} {'vs 1 worker':>12} {'worker MiB':>11} same bytes"
    )
    for row in rows:
        alone = next(
            (
                r
                for r in rows
                if r["outlook"] == row["outlook"] and not r["batching"] and r["workers"] == row["workers"]
            ),
            None,
        )
        single = next(
            (
                r
                for r in rows
                if r["outlook"] == row["outlook"] and r["batching"] == row["batching"] and r["workers"] == 1
            ),
            None,
        )
        print(
            f"{'on' if row['outlook'] else 'off':>8} {'on' if row['batching'] else 'off':>9} {row['workers']:>8} "
            f"{row['seconds']:>8} {row['runs_per_second']:>8} "
            f"{row['runs_per_second'] / alone['runs_per_second'] if alone else float('nan'):>8.2f}x "
            f"{row['runs_per_second'] / single['runs_per_second'] if single else float('nan'):>11.2f}x "
            f"{row['peak_rss_mib_largest_worker']:>11} {row.get('identical_runs_parquet')}"
        )
    print(f"driver peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
