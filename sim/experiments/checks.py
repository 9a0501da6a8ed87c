"""Analysis that checks itself: warnings for results that read well but do not hold.

A metric that never changes, or changes only with the seed, makes Sobol indices of exactly
zero and phase panels of one colour; an index outside [0, 1] or narrower than its interval is
sampling noise; a phase cell of two runs is a coin toss; a tipping point at the end of the
searched range is a bound, not a point. Each check returns a :class:`Caveat` that says what
is wrong, by how much, and what to change in the sweep file; the page and the terminal show
them first (``analysis.json`` keeps them too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.experiments.labels import Parameter, format_metric, metric_name

if TYPE_CHECKING:
    from sim.experiments.phase import PhaseDiagram
    from sim.experiments.spec import TippingSpec
    from sim.experiments.tipping import TippingPoint

HANDFUL = 5  # a metric with at most this many distinct values (over many more runs) is a step, not a gradient
MOSTLY = 0.8  # one value in this share of the runs or more: the metric mostly says whether, not how much
MIN_CELL_RUNS = 5  # fewer runs than this in a phase cell: its shares move 20 points with one run
NEGLIGIBLE = 0.05  # a sensitivity index below this is too small to matter, and an interval of +-0.05 is precise
EDGE_BINS = 10  # bins per parameter of a sampled design (as the phase diagram bins it)


@dataclass(frozen=True)
class Caveat:
    """One warning: which part of the analysis, what is wrong, and what to do about it."""

    part: str  # metric | sensitivity | phase | tipping | robustness
    text: str
    advice: str

    def __str__(self) -> str:
        return f"{self.text}; {self.advice}"

    def as_dict(self) -> dict[str, str]:
        return {"part": self.part, "text": self.text, "advice": self.advice}


def metric_checks(runs: pd.DataFrame, metric: str, parameters: dict[str, Parameter], currency: str) -> list[Caveat]:
    """At most one warning about ``metric``: constant, a handful of values, set by the seed alone where the
    parameters vary, or one value in most runs. ``parameters`` maps the runs' parameter columns to their names."""
    ok = runs[runs["status"] == "ok"]
    if metric not in ok or not pd.api.types.is_numeric_dtype(ok[metric]):
        return []
    values = ok[metric].dropna()
    name = metric_name(metric)
    if values.empty:
        return [Caveat("metric", f"{name} has no value in any run", "analyse another metric")]
    counts = values.value_counts()
    shown = ", ".join(format_metric(metric, v, currency) for v in sorted(counts.index[:HANDFUL]))
    if len(counts) == 1:
        return [
            Caveat(
                "metric",
                f"{name} is {shown} in every one of the {len(values):,} runs",
                "it cannot tell the settings apart: widen the ranges of the swept parameters, or analyse another "
                "metric",
            )
        ]
    if len(counts) <= HANDFUL and len(values) >= 4 * len(counts):
        return [
            Caveat(
                "metric",
                f"{name} takes only {len(counts)} values over {len(values):,} runs ({shown})",
                "its means and indices describe a few jumps, not a gradient: read its values as classes "
                "(analysis/phase.csv, procsim query), or analyse a continuous metric",
            )
        ]
    seed_only = _set_by_seed(ok.loc[values.index], metric, parameters, currency)
    if seed_only is not None:
        return [seed_only]
    top = counts.index[0]
    if counts.iloc[0] >= MOSTLY * len(values):
        return [
            Caveat(
                "metric",
                f"{name} is {format_metric(metric, top, currency)} in {counts.iloc[0] / len(values):.0%} of the runs",
                "its means and indices mostly tell those runs from the rest (for the capability index: the runs "
                "that collapse); read the outcome shares, or narrow the ranges to where it varies",
            )
        ]
    return []


def _bins(values: pd.Series) -> pd.Series:
    """A parameter's levels (a grid's values), or 10 equal bins of a sampled parameter."""
    if values.nunique() <= 2 * EDGE_BINS:
        return values
    return pd.cut(values, EDGE_BINS, labels=False)


def _set_by_seed(ok: pd.DataFrame, metric: str, parameters: dict[str, Parameter], currency: str) -> Caveat | None:
    """Where most bins of a parameter hold several design points yet the metric's value follows the seed alone
    (each seed gives the same value at every point of the bin), the parameters have no effect there."""
    seeds = ok["seed"].nunique()
    for column, parameter in parameters.items():
        if column not in ok or not pd.api.types.is_numeric_dtype(ok[column]) or ok[column].nunique() < 2:
            continue
        frame = pd.DataFrame({"bin": _bins(ok[column]), "seed": ok["seed"], "point": ok["point"], "v": ok[metric]})
        points = frame.groupby("bin")["point"].nunique()
        per_seed = frame.groupby(["bin", "seed"])["v"].nunique().groupby(level=0).max()
        flat = (points >= 3) & (per_seed <= 1)
        if flat.sum() >= 2 and flat.sum() * 2 >= len(points):
            runs = frame.groupby("bin").size()[flat]
            inside = frame[frame["bin"].isin(flat.index[flat])]["v"]
            where = f"in {int(flat.sum())} of {len(points)} bins of {parameter.name}, {metric_name(metric)}"
            if inside.nunique() == 1:  # the same value everywhere there (the capability of runs that collapse)
                text = (
                    f"{where} is {format_metric(metric, inside.iloc[0], currency)} in every run (about "
                    f"{int(runs.mean()):,} runs a bin)"
                )
            else:
                distinct = frame[frame["bin"].isin(flat.index[flat])].groupby("bin")["v"].nunique().max()
                text = (
                    f"{where} does not change with the design point: each run's value is set by its seed alone "
                    f"(at most {distinct} distinct values over about {int(runs.mean()):,} runs a bin, "
                    f"{_count(seeds, 'seed')})"
                )
            return Caveat(
                "metric",
                text,
                "there the swept parameters have no effect on it (Sobol indices near 0, flat panels): narrow the "
                "ranges to where it moves, or analyse another metric",
            )
    return None


def _samples_for(n: int, conf: float, target: float) -> int:
    """Base samples (a power of 2, as Saltelli's sequence wants) for an interval of half-width ``target``:
    the half-width shrinks as 1 / sqrt(N)."""
    need = n * (conf / max(target, 1e-9)) ** 2
    return int(2 ** math.ceil(math.log2(max(need, 2 * n))))


def sobol_checks(
    table: pd.DataFrame, metric: str, parameters: dict[str, Parameter], samples: int, points_per_sample: int
) -> list[Caveat]:
    """Sobol indices outside [0, 1] and intervals wider than their index, with the sample size that fixes them
    (``points_per_sample``: design points per base sample, D + 2 or 2D + 2)."""
    name = metric_name(metric)
    outside, wide = [], []
    need_out, need_wide, noisy = 0, 0, False
    for _, row in table.iterrows():
        who = parameters[row["parameter"]].name if row["parameter"] in parameters else str(row["parameter"])
        for index in ("S1", "ST"):
            value, conf = float(row[index]), float(row[f"{index}_conf"])
            beyond = max(-value, value - 1.0)
            if beyond > 0.005:
                outside.append(f"{index} of {who} {value:.3f} ± {conf:.3f}")
                need_out = max(need_out, _samples_for(samples, conf, NEGLIGIBLE))
                noisy = noisy or conf < beyond
            elif conf > abs(value) and abs(value) + conf >= NEGLIGIBLE:
                wide.append(f"{index} of {who} {value:.2f} ± {conf:.2f}")
                need_wide = max(need_wide, _samples_for(samples, conf, max(abs(value), NEGLIGIBLE)))
    out = []
    if outside:
        advice = (
            "their intervals do not reach [0, 1] either: the noise between seeds outweighs the parameters' effect; "
            "raise replicates (each point averages its seeds), or check the metric's warning above"
            if noisy
            else f"sampling error: about {need_out:,} base samples (samples: {need_out}, "
            f"{need_out * points_per_sample:,} design points) would narrow the intervals to about ±{NEGLIGIBLE}"
        )
        out.append(
            Caveat(
                "sensitivity", f"{name}: {_count(len(outside), 'Sobol index')} outside [0, 1] ({_few(outside)})", advice
            )
        )
    if wide:
        out.append(
            Caveat(
                "sensitivity",
                f"{name}: {_count(len(wide), 'Sobol index')} with a 95% interval wider than the index ({_few(wide)})",
                f"they cannot be told from zero: about {need_wide:,} base samples (samples: {need_wide}, "
                f"{need_wide * points_per_sample:,} design points) would bring each interval within its index",
            )
        )
    return out


def morris_checks(
    table: pd.DataFrame, metric: str, parameters: dict[str, Parameter], trajectories: int
) -> list[Caveat]:
    """Morris mu* whose interval is wider than mu* itself, with the trajectories that would fix it."""
    wide, need = [], 0
    scale = float(table["mu_star"].abs().max() or 1.0)
    for _, row in table.iterrows():
        value, conf = float(row["mu_star"]), float(row["mu_star_conf"])
        if conf > abs(value) and abs(value) + conf >= NEGLIGIBLE * scale:
            who = parameters[row["parameter"]].name if row["parameter"] in parameters else str(row["parameter"])
            wide.append(f"{who} {value:.3g} ± {conf:.3g}")
            need = max(need, math.ceil(trajectories * (conf / max(abs(value), NEGLIGIBLE * scale)) ** 2))
    if not wide:
        return []
    return [
        Caveat(
            "sensitivity",
            f"{metric_name(metric)}: {len(wide)} Morris mu* with a 95% interval wider than mu* ({_few(wide)})",
            f"about {need:,} trajectories (samples: {need}) would bring each interval within its mu*",
        )
    ]


def _count(n: int, word: str) -> str:
    """``1 seed``, ``3 seeds``, ``2 Sobol indices``."""
    plural = word[:-2] + "ices" if word.endswith("ex") else word + "s"
    return f"{n:,} {word if n == 1 else plural}"


def _few(items: list[str], limit: int = 3) -> str:
    return "; ".join(items[:limit]) + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def phase_checks(diagram: PhaseDiagram, x: Parameter, y: Parameter, sampled: bool) -> list[Caveat]:
    """Phase cells with too few runs, and a boundary that hugs the grid's edge or is not in the grid at all."""
    out = []
    runs = diagram.table["runs"]
    xs, ys, counts = diagram.grid("runs")
    empty = int(np.isnan(counts).sum())
    thin = runs[runs < MIN_CELL_RUNS]
    if len(thin) or empty:
        cells = len(xs) * len(ys)
        few = f"{len(thin)} of {cells} cells have fewer than {MIN_CELL_RUNS} runs (as few as {int(thin.min())})"
        text = few if len(thin) else ""
        if empty:
            text = (text + "; " if text else "") + f"{empty} of {cells} cells have none"
        advice = (
            "each cell is a bin of the sample: raise samples (about "
            f"{math.ceil(MIN_CELL_RUNS * cells / max(int(runs.sum()), 1)) + 1}x as many) so every bin holds "
            f"{MIN_CELL_RUNS} runs or more"
            if sampled
            else f"a cell's shares move by {100 // max(int(thin.min()) if len(thin) else 1, 1)} points with one run: "
            f"raise replicates to {MIN_CELL_RUNS} or more"
        )
        out.append(Caveat("phase", f"phase diagram: {text}", advice))
    _, _, tipped = diagram.grid("share_tipped")
    for axis, parameter, values, matrix in ((x, x, xs, tipped), (y, y, ys, tipped.T)):
        edge = _boundary_edge(matrix)
        if edge and len(values) > 2:
            where = "lowest" if edge == "low" else "highest"
            out.append(
                Caveat(
                    "phase",
                    f"phase diagram: the boundary lies between the two {where} values of {parameter.name} "
                    f"wherever it crosses that axis",
                    f"the grid hardly resolves it: extend the {axis.name} range "
                    f"{'below' if edge == 'low' else 'above'} {parameter.format(values[0 if edge == 'low' else -1])} "
                    "or refine the grid near that edge",
                )
            )
    if np.nanmax(tipped) < 0.5 or np.nanmin(tipped) >= 0.5:
        side = "fewer than half" if np.nanmax(tipped) < 0.5 else "at least half"
        out.append(
            Caveat(
                "phase",
                f"phase diagram: no boundary inside the grid: in every cell {side} the runs spiral or collapse",
                "widen the ranges of the two parameters until both sides of the boundary are in the grid",
            )
        )
    return out


def _boundary_edge(matrix: np.ndarray) -> str | None:
    """'low' or 'high' when every row (one value of the other parameter) that crosses half does so only between
    its first two or its last two columns."""
    crossings: set[str] = set()
    for row in matrix:
        valid = row[~np.isnan(row)]
        if len(valid) < 3:
            continue
        above = valid >= 0.5
        flips = np.flatnonzero(above[1:] != above[:-1])
        for i in flips:
            crossings.add("low" if i == 0 else "high" if i == len(valid) - 2 else "inside")
    return crossings.pop() if len(crossings) == 1 and "inside" not in crossings else None


def tipping_checks(tip: TippingPoint, spec: TippingSpec, parameter: Parameter) -> list[Caveat]:
    """A tipping point pressed against an end of the searched range, or none found in it."""
    if not tip.found:
        shares = tip.shares()
        low, high = shares.iloc[0]["tipped_share"], shares.iloc[-1]["tipped_share"]
        return [
            Caveat(
                "tipping",
                f"no tipping point between {parameter.format(spec.low)} and {parameter.format(spec.high)} of "
                f"{parameter.name} ({low:.0%} and {high:.0%} of the runs tip at the two ends)",
                "widen analysis.tipping's low and high until the outcome flips inside (the phase diagram shows where)",
            )
        ]
    if tip.ci is None:
        return []
    near = spec.tolerance
    if tip.ci[0] <= spec.low + near or tip.ci[1] >= spec.high - near:
        end = spec.low if tip.ci[0] <= spec.low + near else spec.high
        return [
            Caveat(
                "tipping",
                f"the tipping point's interval reaches the end of the searched range ({parameter.format(end)})",
                "it may lie beyond it: widen analysis.tipping's "
                f"{'low' if end == spec.low else 'high'} past {parameter.format(end)}",
            )
        ]
    return []


def as_records(caveats: list[Caveat]) -> list[dict[str, Any]]:
    return [c.as_dict() for c in caveats]
