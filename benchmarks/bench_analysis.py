"""Is the analysis at least as fast as the sweep? Each bundled sweep, then its analysis, as a user runs them.

    .venv/bin/python benchmarks/bench_analysis.py                 # every bundled sweep, best of 3, 2 workers
    .venv/bin/python benchmarks/bench_analysis.py --sweeps phase_savings_vs_defense --repeat 5

Both are timed as whole commands (``procsim sweep NAME --workers W --quiet`` into a fresh
folder, then ``procsim analyze FOLDER --workers W --quiet``), interpreter start-up and imports
included, since that is what a researcher waits for. The best of ``--repeat`` runs counts (other
work on a machine only slows a command down); every time is printed as a JSON line too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCSIM = [sys.executable, "-m", "sim"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bundled = sorted(p.stem for p in (ROOT / "scenarios" / "sweeps").glob("*.yaml"))
    parser.add_argument("--sweeps", nargs="+", default=bundled)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        for name in args.sweeps:
            sweeps, analyses = [], []
            for i in range(args.repeat):
                out = Path(tmp) / f"{name}-{i}"
                sweeps.append(
                    timed([*PROCSIM, "sweep", name, "--out", str(out), "--workers", str(args.workers), "--quiet"])
                )
                analyses.append(timed([*PROCSIM, "analyze", str(out), "--workers", str(args.workers), "--quiet"]))
                shutil.rmtree(out)
                print(json.dumps({"sweep": name, "sweep_s": round(sweeps[-1], 2), "analyze_s": round(analyses[-1], 2)}))
            runs = json.loads(
                subprocess.run(
                    [*PROCSIM, "sweep", name, "--dry-run"], cwd=ROOT, capture_output=True, text=True, check=True
                )
                .stdout.split("runs", 2)[1]
                .split("(")[0]
                .strip()
                .replace(",", "")
                or "0"
            )
            rows.append((name, runs, min(sweeps), min(analyses)))
    print()
    print("| sweep | runs | `procsim sweep` s | `procsim analyze` s | analysis / sweep |")
    print("|---|---:|---:|---:|---:|")
    for name, runs, sweep, analysis in rows:
        print(f"| `{name}` | {runs:,} | {sweep:.2f} | {analysis:.2f} | {analysis / sweep:.2f} |")


if __name__ == "__main__":
    main()
