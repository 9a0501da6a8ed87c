"""Measure the constants of sim/runs/resources.py: memory and time per customer and per customer-period.

    python benchmarks/bench_resources.py            # a few sizes, each in a fresh process

Each workload runs once in a fresh interpreter; memory is the resident-set high-water mark
above the process after its imports, time the wall time of the work. Two workloads:

* ``run``: what ``procsim run`` does: the run with per-agent series every period, its
  no-discount counterfactual (no agent series), and every output file (agents.parquet,
  plots, report).
* ``sim``: one run without per-agent series and without files: a sweep worker's run,
  a tipping evaluation, each side of ``procsim compare``.

The script fits memory = a * customers + b * customer-periods (recorded) and time =
c * customer-periods (simulated) by least squares and prints the constants to copy into
sim/runs/resources.py, with the table they came from.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = ((5_000, 20), (5_000, 80), (20_000, 20), (20_000, 80), (60_000, 40))


def _rss() -> int:
    """Current resident set size in bytes (Linux /proc)."""
    import os

    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(mode: str, customers: int, periods: int) -> dict:
    from sim import load_scenario
    from sim.runs.runner import run_scenario, simulate

    scenario = load_scenario("procurement_squeeze", {"customers.count": customers, "periods": periods})
    before = _rss()
    start = time.perf_counter()
    if mode == "run":
        with tempfile.TemporaryDirectory() as tmp:
            run_scenario(scenario, out=Path(tmp) / "out")
    else:
        simulate(scenario, 1, record_agents_every=0)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"mode": mode, "customers": customers, "periods": periods, "seconds": seconds, "bytes": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        mode, customers, periods = args.child
        print(json.dumps(child(mode, int(customers), int(periods))))
        return
    rows = []
    for mode in ("run", "sim"):
        for customers, periods in SIZES:
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(customers), str(periods)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout)
            rows.append(row)
            print(
                f"{mode:>4} {customers:>7,} customers x {periods:>3} periods: "
                f"{row['seconds']:7.2f} s  {row['bytes'] / 2**20:8.1f} MiB"
            )
    for mode in ("run", "sim"):
        sel = [r for r in rows if r["mode"] == mode]
        n = np.array([r["customers"] for r in sel], float)
        cp = np.array([r["customers"] * r["periods"] for r in sel], float)
        mem = np.linalg.lstsq(np.column_stack([n, cp]), np.array([r["bytes"] for r in sel], float), rcond=None)[0]
        sec = np.linalg.lstsq(cp[:, None], np.array([r["seconds"] for r in sel], float), rcond=None)[0]
        print(
            f"{mode}: {mem[0]:.0f} bytes per customer + {mem[1]:.1f} bytes per customer-period; "
            f"{sec[0] * 1e9:.0f} ns per customer-period"
        )


if __name__ == "__main__":
    main()
