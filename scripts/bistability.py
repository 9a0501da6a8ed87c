"""Draw docs/img/bistability.png: where the baseline market ends up, by where it starts and how hard it is pushed.

    .venv/bin/python scripts/bistability.py            # about a minute

Left: the long-run capability index (the outlook's) against the capability the suppliers
start with, with no pressure at all. Right: against the strength of a one-off, three-year
savings-target pulse that is then removed, with discounts free to fall back (ratchet 0).
A run that collapses is drawn at zero. Three seeds per point.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim import load_scenario
from sim.runs.runner import simulate

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "bistability.png"
SEEDS = (1, 2, 3)


def long_run(overrides: dict) -> list[float]:
    """The outlook's capability index for each seed (0 for a collapse)."""
    out = []
    for seed in SEEDS:
        s = simulate(load_scenario("baseline", overrides), seed, record_agents_every=0).summary
        out.append(0.0 if s["outlook"] == "collapse" else s["outlook_capability_index"])
    return out


def main() -> int:
    starts = np.round(np.arange(0.5, 1.0001, 0.025), 3)
    pulses = np.round(np.arange(0.0, 0.401, 0.025), 3)
    by_start = [long_run({"suppliers.initial_capability": float(k)}) for k in starts]
    by_pulse = [
        long_run({"customers.procurement.savings_target": {0: float(p), 12: 0.0}, "market.ratchet": 0.0})
        for p in pulses
    ]
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    for ax, xs, ys, label in (
        (left, starts, by_start, "capability the suppliers start with (no pressure)"),
        (right, 100 * pulses, by_pulse, "savings target for the first 3 years, then none (%)"),
    ):
        for i in range(len(SEEDS)):
            ax.plot(xs, [y[i] for y in ys], "o-", ms=3, lw=1, alpha=0.7, label=f"seed {SEEDS[i]}")
        ax.axhline(0.8, color="#999", ls=":", lw=1)
        ax.set_xlabel(label)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
    left.set_ylabel("capability index in the long run (0: collapse)")
    left.legend(fontsize=8)
    fig.suptitle("Where the baseline market settles: recovery above a threshold, a lasting loss or collapse below it")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110, metadata={"Software": None})
    print(f"wrote {OUT}")
    for k, y in zip(starts, by_start, strict=True):
        print(f"start {k:.3f}: {np.round(y, 3).tolist()}")
    for p, y in zip(pulses, by_pulse, strict=True):
        print(f"pulse {p:.3f}: {np.round(y, 3).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
