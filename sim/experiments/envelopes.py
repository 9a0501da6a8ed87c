"""Time series of a sweep as envelopes: the median and the 10-90% band of market series over time, by group.

A sweep keeps each run's market series in ``series.parquet`` (``outputs.series: every`` or
``every_k``). An envelope gathers the runs of a group (those that reach one outcome, one
design point, or one value of a swept parameter) and gives, at each kept period, the median
and the 10th and 90th percentiles across those runs, with the period also in years:

    from sim.experiments.envelopes import envelopes
    bands = envelopes("results/sweeps/phase", series=["capability_index"], by="outcome")

``analysis.html`` draws them (``analysis.envelopes`` in the sweep file chooses series and
grouping); ``analysis/envelopes.csv`` has the numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.errors import InputError
from sim.experiments import store
from sim.experiments.labels import describe, format_metric, metric_name, unit_of
from sim.experiments.phase import verdicts
from sim.experiments.spec import OUTCOME_NAMES
from sim.reports.pages import OUTCOME_COLORS
from sim.reports.plots import plain

QUANTILES = (0.1, 0.5, 0.9)
MAX_GROUPS = 8  # lines a chart can tell apart
PALETTE = ("#1d4ed8", "#c2410c", "#15803d", "#7c3aed", "#0f766e", "#b45309", "#be185d", "#4b5563")


def envelopes(
    folder: str | Path,
    series: list[str] | tuple[str, ...] = ("capability_index", "discount_mean"),
    by: str = "outcome",
    *,
    points: list[int] | None = None,
    regime: str = "outlook",
    runs: pd.DataFrame | None = None,
    manifest: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Median and 10-90% band of each of ``series`` at every kept period, per group of runs.

    ``by``: ``outcome`` (each run's outcome, ``regime`` horizon or outlook), ``point`` (the
    design points, ``points`` to choose them; at most 8) or a swept parameter's path (one
    group per value; sampled values in 8 bins). Returns one row per group, series and period:
    ``group, order, series, period, years, runs, p10, median, p90`` (``order`` sorts the groups).
    """
    folder = Path(folder)
    manifest = manifest or store.read_manifest(folder)
    runs = runs if runs is not None else store.read_runs(folder, manifest)
    if not (folder / "series.parquet").is_file():
        raise InputError("no series.parquet here: the sweep kept no series (outputs.series: none)", source=str(folder))
    path = store.verify(folder, "series.parquet", manifest)
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    missing = [s for s in series if s not in names]
    if missing or "period" not in names:
        raise InputError(
            f"no series {missing[0] if missing else 'period'} in series.parquet (kept: "
            f"{', '.join(n for n in names if n not in ('point', 'replicate', 'period'))})",
            source=str(folder),
        )
    table = pq.ParquetFile(path, page_checksum_verification=True).read(
        columns=["point", "replicate", "period", *series], use_threads=False
    )
    frame = table.to_pandas()
    groups = _groups(runs, manifest, by, points, regime)
    frame = frame.merge(groups, on=["point", "replicate"], how="inner")
    per_year = _periods_per_year(manifest)
    rows = []
    for name in series:
        grouped = frame.groupby(["order", "group", "period"], sort=True)[name]
        stats = grouped.quantile(list(QUANTILES)).unstack()
        stats.columns = ["p10", "median", "p90"]
        stats["runs"] = grouped.count()
        stats = stats.reset_index()
        stats.insert(2, "series", name)
        rows.append(stats)
    out = pd.concat(rows, ignore_index=True)
    out.insert(out.columns.get_loc("period") + 1, "years", out["period"] / per_year)
    return out[["group", "order", "series", "period", "years", "runs", "p10", "median", "p90"]]


def _periods_per_year(manifest: dict[str, Any]) -> int:
    base = manifest.get("base_scenario") or {}
    value = base.get("periods_per_year", 4) if isinstance(base, dict) else 4
    return int(value) if isinstance(value, int | float) and value >= 1 else 4


def _groups(
    runs: pd.DataFrame, manifest: dict[str, Any], by: str, points: list[int] | None, regime: str
) -> pd.DataFrame:
    """Each successful run's group (a label for people) and the groups' order."""
    ok = runs[runs["status"] == "ok"]
    keys = ok[["point", "replicate"]].copy()
    if by == "outcome":
        outcome = verdicts(ok, regime)
        keys["group"] = outcome.to_numpy()
        keys["order"] = [OUTCOME_NAMES.index(o) if o in OUTCOME_NAMES else len(OUTCOME_NAMES) for o in outcome]
        return keys
    if by == "point":
        chosen = points if points else sorted(ok["point"].unique())[:MAX_GROUPS]
        keys = keys[keys["point"].isin(chosen)]
        columns: dict[str, str] = manifest.get("parameters") or {}
        labels = {p["id"]: _point_label(p, columns) for p in manifest.get("points", []) if p["id"] in set(chosen)}
        keys["group"] = [labels.get(p, f"point {p}") for p in keys["point"]]
        keys["order"] = [list(chosen).index(p) for p in keys["point"]]
        return keys
    columns = manifest.get("parameters") or {}
    if by not in columns:
        raise InputError(f"{by} is not a swept parameter (swept: {', '.join(columns)})", field="analysis.envelopes.by")
    values = ok[columns[by]]
    parameter = describe(by)
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_GROUPS:
        bins = pd.cut(values, MAX_GROUPS)
        keys["group"] = [f"{parameter.name} {parameter.span(i.left, i.right)}" for i in bins]
        keys["order"] = bins.cat.codes.to_numpy()
        return keys
    distinct = sorted(values.dropna().unique(), key=lambda v: (isinstance(v, str), v))
    keys["group"] = [parameter.with_value(v) for v in values]
    keys["order"] = [distinct.index(v) if v in distinct else len(distinct) for v in values]
    return keys


def _point_label(point: dict[str, Any], columns: dict[str, str]) -> str:
    parts = [describe(path).with_value(value) for path, value in point["params"].items() if path in columns]
    label = str(point.get("label") or "")
    return ", ".join(([label] if label else []) + parts[:3]) or f"point {point['id']}"


def envelope_figure(bands: pd.DataFrame, currency: str) -> Figure:
    """One panel per series: each group's median as a line and its 10-90% band, over years."""
    names = list(dict.fromkeys(bands["series"]))
    fig = Figure(figsize=(6.2 * len(names), 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)[0])
    groups = bands[["order", "group"]].drop_duplicates().sort_values(["order", "group"])["group"].tolist()
    for ax, name in zip(axes, names, strict=True):
        for i, group in enumerate(groups[:MAX_GROUPS]):
            part = bands[(bands["series"] == name) & (bands["group"] == group)]
            if part.empty:
                continue
            colour = OUTCOME_COLORS.get(group, PALETTE[i % len(PALETTE)])
            runs = int(part["runs"].max())
            ax.fill_between(part["years"], part["p10"], part["p90"], color=colour, alpha=0.18, lw=0)
            ax.plot(part["years"], part["median"], color=colour, lw=2, label=plain(f"{group} ({runs} runs)"))
        ax.set_title(plain(metric_name(name)), fontsize=12, loc="left")
        ax.set_xlabel("years", fontsize=11)
        if unit_of(name) in ("money", "pct"):
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, n=name: plain(format_metric(n, v, currency))))
        ax.legend(fontsize=8, loc="best")
    return fig
