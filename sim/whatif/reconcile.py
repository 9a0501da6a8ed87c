"""The reconciled answer: what a change costs you, where it comes from, per year and now, and who follows.

"Costs you" is your profit (you are the first supplier) in the what-if minus the base,
seed by seed. Each run's difference is split into four parts that add up to it exactly:
the granted account(s), accounts that obtained parity (their discount with you rose
against the base), accounts lost or won (yours at the end in one side and not in the
other), and the rest of your market (your other customers). A customer's profit to you is
its contribution less its share of your investment and overhead, by list-price volume
(``AccountTotals.yours``), so the parts are profits that add up to yours. Each part, the total and every per-account figure gets the mean and an 80%
range (10th-90th percentile over the seeds); the means add up, the ranges do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.accounts import YOU, account_indices, effective_periods
from sim.runs.runner import RunResult

PARITY_STEP = 0.001  # a tenth of a percentage point: a demand or discount this much above the base counts
PARITY_YEARS = 2
PARTS = (
    ("granted", "the granted account"),
    ("parity", "accounts that obtained parity"),
    ("moved", "accounts lost or won"),
    ("rest", "the rest of your market (your other customers)"),
)


def spread(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and 80% range (10th and 90th percentile) over the seeds, with how many runs there are and how many
    of them show no change (under half a unit of money): a change in few runs has a mean outside its range."""
    v = np.asarray(values, dtype=float)
    if not v.size:
        return {"mean": 0.0, "p10": 0.0, "p90": 0.0, "runs": 0, "unchanged": 0}
    return {
        "mean": float(v.mean()),
        "p10": float(np.percentile(v, 10)),
        "p90": float(np.percentile(v, 90)),
        "runs": int(v.size),
        "unchanged": int((np.abs(v) < 0.5).sum()),
    }


@dataclass
class RunParts:
    """One seed's profit difference and its parts (what-if minus base), with the accounts in each."""

    total: float
    parts: dict[str, float]
    parity: np.ndarray  # customers that obtained parity
    moved: np.ndarray  # customers yours at the end in one side only


def run_parts(base: RunResult, whatif: RunResult, granted: np.ndarray) -> RunParts:
    """Split one seed's difference in your profit into the four parts (they add up to it exactly)."""
    b, w = base.totals, whatif.totals
    total = float(w.supplier_profit[YOU] - b.supplier_profit[YOU])
    change = w.yours - b.yours
    n = change.size
    is_granted = np.zeros(n, dtype=bool)
    is_granted[granted] = True
    moved = ((b.supplier == YOU) != (w.supplier == YOU)) & ~is_granted
    parity = (w.discount - b.discount >= PARITY_STEP) & (w.supplier == YOU) & ~moved & ~is_granted
    if not granted.size:  # nothing granted, nothing to obtain parity with: a discount that rose is the market's
        parity[:] = False
    parts = {
        "granted": float(change[is_granted].sum()),
        "parity": float(change[parity].sum()),
        "moved": float(change[moved].sum()),
    }
    parts["rest"] = total - parts["granted"] - parts["parity"] - parts["moved"]
    return RunParts(total, parts, np.flatnonzero(parity), np.flatnonzero(moved))


def breakdown(pairs: Sequence[tuple[RunResult, RunResult]], granted: np.ndarray, target: str | None) -> dict[str, Any]:
    """The total and the four parts over the seeds: spreads, and how many accounts each part holds (mean)."""
    each = [run_parts(b, w, granted) for b, w in pairs]
    out = {"profit_change": spread([r.total for r in each]), "parts": []}
    for key, words in PARTS:
        if key in ("granted", "parity") and target is None:
            continue  # without a grant there is neither a granted account nor parity with it
        label = f"{target} (granted)" if key == "granted" else words
        part = {"key": key, "label": label, **spread([r.parts[key] for r in each])}
        if key == "parity":
            part["accounts"] = float(np.mean([r.parity.size for r in each]))
        elif key == "moved":
            part["accounts"] = float(np.mean([r.moved.size for r in each]))
        out["parts"].append(part)
    return out


# The channels through which a change reaches the granted account's value (design brief section 7, docs/model.md
# stage 3), each as the account's gain: what it pays (less is a gain), what your capabilities deliver to it
# (your cuts to fund a grant are spread over all your accounts), the service you give it, what co-creation adds
# (it returns a favour as engagement), added service, and switching and redesign costs.
CHANNEL_WORDS = (
    ("paid", "its price (what it pays)"),
    ("capabilities", "your capabilities (cuts spread over all your accounts)"),
    ("withheld", "the service you give it"),
    ("cocreated", "engagement and co-creation (it returns the favour)"),
    ("gifts", "added service"),
    ("transaction", "switching and redesign costs"),
)
_GAIN = {"paid": -1.0, "capabilities": 1.0, "withheld": -1.0, "cocreated": 1.0, "gifts": 1.0, "transaction": -1.0}


def value_channels(pairs: Sequence[tuple[RunResult, RunResult]], rows: np.ndarray) -> list[dict[str, Any]]:
    """The granted account's value change by channel (what-if minus base, seed by seed; they add up to it).

    Each channel is the change of one part of the account's value, signed as the account's
    gain, over the seeds (mean and 80% range), largest first; ``dominant`` marks the one
    with the largest mean effect, which the answer names.
    """
    from sim.engine.account_totals import CHANNELS

    out = []
    for key, words in CHANNEL_WORDS:
        k = CHANNELS.index(key)
        changes = [_GAIN[key] * (w.totals.channels[rows, k].sum() - b.totals.channels[rows, k].sum()) for b, w in pairs]
        out.append({"key": key, "label": words, **spread(changes)})
    out.sort(key=lambda c: -abs(c["mean"]))
    for i, channel in enumerate(out):
        channel["dominant"] = i == 0
    return out


def your_profit_by_period(run: RunResult) -> np.ndarray:
    """Your profit in each period of a run."""
    return np.array([p[YOU] for p in run.totals.profits])


def in_time(pairs: Sequence[tuple[RunResult, RunResult]], per_year: int, rate: float) -> dict[str, Any]:
    """The difference per year of the horizon, per year on average, its net present value and its build-up.

    The NPV discounts each period's difference at ``rate`` a year to the start (a period's
    flows at its end); ``cumulative`` is the running total at the end of each year (mean
    and 80% range), what the chart of the cost over time draws.
    """
    diffs = np.stack([your_profit_by_period(w) - your_profit_by_period(b) for b, w in pairs])  # (runs, T)
    periods = diffs.shape[1]
    years = periods / per_year
    ends = [min(per_year * (k + 1), periods) for k in range(int(np.ceil(years)))]
    starts = [per_year * k for k in range(len(ends))]
    yearly = [spread(diffs[:, a:e].sum(axis=1)) for a, e in zip(starts, ends, strict=True)]
    factors = (1.0 + rate) ** (-(np.arange(periods) + 1) / per_year)
    running = np.cumsum(diffs, axis=1)
    return {
        "per_year": spread(diffs.sum(axis=1) / years),
        "years": [{"year": k + 1, **y} for k, y in enumerate(yearly)],
        "rate": rate,
        "npv": spread(diffs @ factors),
        "cumulative": [{"year": e / per_year, **spread(running[:, e - 1])} for e in ends],
    }


def granted_rows(scenario: Any, grants: Sequence[Any]) -> np.ndarray:
    """Customer indices the new grants are addressed to."""
    from sim.engine.accounts import targets

    if not grants:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate([targets(scenario, g) for g in grants]))


def neighbours(edges: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """The peers of ``rows`` in a run's network (undirected edges), ``rows`` themselves left out."""
    if edges is None or not len(edges):
        return np.empty(0, dtype=np.int64)
    a, b = edges[:, 0], edges[:, 1]
    found = np.concatenate([b[np.isin(a, rows)], a[np.isin(b, rows)]])
    return np.setdiff1d(np.unique(found), rows)


def followers(
    pairs: Sequence[tuple[RunResult, RunResult]], scenario: Any, grant: Any, rows: np.ndarray
) -> dict[str, Any]:
    """Which peers of the granted account(s) demand parity, and when (years after the grant first prices).

    A peer follows in the period its procurement demand first exceeds the base's by
    ``PARITY_STEP``. Returned: peers (mean), those following within ``PARITY_YEARS``, the
    mean number following by the end of each year, and each named peer's runs and timing.
    """
    per_year, periods = scenario.periods_per_year, scenario.periods
    names = {i: name for name, i in account_indices(scenario).items()}
    counts, early, timelines = [], [], []
    named: dict[int, list[float]] = {}
    begin = 0
    window = 0.0
    for b, w in pairs:
        begin = int(effective_periods(w.model, rows, int(grant.from_period)).min())
        peers = neighbours(w.totals.peers, rows)
        counts.append(peers.size)
        end = min(begin + PARITY_YEARS * per_year, periods)
        window = max(end - begin, 0) / per_year
        first = np.full(peers.size, -1)
        if peers.size and begin < periods:
            demand_w = np.stack(w.totals.demand[begin:periods])[:, peers]
            demand_b = np.stack(b.totals.demand[begin:periods])[:, peers]
            asked = (demand_w - demand_b) >= PARITY_STEP
            first = np.where(asked.any(axis=0), asked.argmax(axis=0), -1)
        early.append(int(((first >= 0) & (first < end - begin)).sum()))
        span = max(periods - begin, 0)
        timelines.append(
            [int(((first >= 0) & (first < min(per_year * (k + 1), span))).sum()) for k in range(-(-span // per_year))]
        )
        for peer, at in zip(peers.tolist(), first.tolist(), strict=True):
            if peer in names:
                named.setdefault(peer, [])
                if at >= 0:
                    named[peer].append((at + 1) / per_year)
    runs = len(pairs)
    longest = max((len(t) for t in timelines), default=0)
    padded = np.array([t + [t[-1] if t else 0] * (longest - len(t)) for t in timelines], dtype=float)
    return {
        "peers": float(np.mean(counts)) if counts else 0.0,
        "peers_demanding_parity": float(np.mean(early)) if early else 0.0,
        "parity_window_years": window,
        "grant_begins_year": begin / per_year,
        "follow_by_year": [{"year": k + 1, "peers": float(padded[:, k].mean())} for k in range(longest)],
        "named_followers": sorted(
            (
                {
                    "account": names[i],
                    "runs": len(times),
                    "of": runs,
                    "median_years": float(np.median(times)) if times else None,
                }
                for i, times in named.items()
            ),
            key=lambda f: (-f["runs"], f["median_years"] or 0.0, f["account"]),
        ),
    }


def kept(runs: Sequence[RunResult], rows: np.ndarray) -> float:
    """Share of runs in which every one of ``rows`` that was yours at the start is still yours at the end."""
    if not rows.size:
        return 1.0
    out = []
    for run in runs:
        t = run.totals
        mine = rows[t.initial_supplier[rows] == YOU]
        out.append(bool((t.supplier[mine] == YOU).all()) if mine.size else True)
    return float(np.mean(out)) if out else 1.0
