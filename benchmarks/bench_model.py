"""Throughput and peak memory of one simulation run (construction + run + data collection).

    python benchmarks/bench_model.py                # the `large` workload and 10x customers
    python benchmarks/bench_model.py --scale 1 --repeat 7
    python benchmarks/bench_model.py --outlook      # each run also projects its outlook past the horizon

Figures are customer-periods per second (customers x periods / wall time of the best
repeat, construction + run + data collection every period); interpreter start-up and
imports are excluded. With ``--outlook`` each run also projects its outlook (a copy of the
model stepped past the horizon until it settles, as ``procsim run`` does), and the
periods of the outlook count as work too. Memory is the resident-set high-water mark of a fresh process that
runs the workload once, and the part of it above the imported libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _rss_mib() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(scale: int, repeat: int, outlook: bool = False) -> dict:
    """Time ``repeat`` runs of the workload (best and median), then report memory of one run."""
    from sim import load_scenario
    from sim.engine.model import ProcurementModel
    from sim.engine.outlook import project_copy

    base = load_scenario(HERE / "large.yaml")
    customers = base.customers[0].count * scale
    scenario = load_scenario(HERE / "large.yaml", {"customers.count": customers})
    times, periods = [], []
    for i in range(repeat):
        start = time.perf_counter()
        model = ProcurementModel(scenario, rng=scenario.seed + i)
        model.run()
        ahead = project_copy(model, scenario.outlook_periods).last_period + 1 - scenario.periods if outlook else 0
        times.append(time.perf_counter() - start)
        periods.append(scenario.periods + ahead)
        del model
    best = min(times)
    simulated = periods[times.index(best)]
    work = customers * simulated
    return {
        "customers": customers,
        "suppliers": scenario.n_suppliers,
        "periods": simulated,
        "best_seconds": round(best, 4),
        "median_seconds": round(sorted(times)[len(times) // 2], 4),
        "customer_periods_per_second": round(work / best),
    }


def memory(scale: int) -> dict:
    """Peak resident memory of one construction + run, and the part above the imported libraries."""
    from sim import load_scenario
    from sim.engine.model import ProcurementModel

    base = load_scenario(HERE / "large.yaml")
    scenario = load_scenario(HERE / "large.yaml", {"customers.count": base.customers[0].count * scale})
    before = _rss_mib()
    ProcurementModel(scenario, rng=scenario.seed).run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_rss_mib": round(peak, 1), "model_mib": round(peak - before, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, action="append", help="customer multiplier (default: 1 and 10)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--outlook", action="store_true", help="also project each run's outlook (counted as work)")
    parser.add_argument("--child", choices=["time", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    scales = args.scale or [1, 10]
    if args.child:
        print(json.dumps(measure(scales[0], args.repeat, args.outlook) if args.child == "time" else memory(scales[0])))
        return
    rows = []
    for scale in scales:
        # Fresh interpreters: one for the timings, one for the memory of a single run.
        row = {}
        for mode in ("time", "memory"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--scale", str(scale), "--repeat", str(args.repeat)]
                + (["--outlook"] if args.outlook else []),
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            row.update(json.loads(out))
        rows.append(row)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print(
        f"{'customers':>10} {'periods':>8} {'best s':>8} {'median s':>9} {'cust-periods/s':>15} "
        f"{'peak RSS MiB':>13} {'model MiB':>10}"
    )
    for r in rows:
        print(
            f"{r['customers']:>10} {r['periods']:>8} {r['best_seconds']:>8} {r['median_seconds']:>9} "
            f"{r['customer_periods_per_second']:>15,} {r['peak_rss_mib']:>13} {r['model_mib']:>10}"
        )
    if len(rows) > 1:
        base, big = rows[0], rows[-1]
        ratio = (big["best_seconds"] / base["best_seconds"]) / (big["customers"] / base["customers"])
        print(
            f"time per customer at {big['customers'] // base['customers']}x relative to 1x: {ratio:.2f} (1.00 = linear)"
        )


if __name__ == "__main__":
    main()
