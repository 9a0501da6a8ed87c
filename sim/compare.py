"""Side-by-side what-if: two scenarios on the same seeds, a delta table and overlay charts."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import plots
from .outputs import atomic_write_text, manifest, save_figure, staged_directory, to_json, write_frame_csv
from .report import KEY_METRICS, OUTCOME_COLORS, _fmt, _footer, _img, page
from .runner import replicate_seeds, simulate
from .scenario import Scenario


@dataclass
class Comparison:
    a: Scenario
    b: Scenario
    seeds: list[int]
    summary: dict[str, Any]
    deltas: pd.DataFrame
    timeseries: dict[str, list[pd.DataFrame]]
    wall_seconds: float
    out: Path | None = None


def compare(
    a: Scenario,
    b: Scenario,
    *,
    seed: int | None = None,
    replicates: int = 1,
    out: Path | None = None,
    progress=None,
    command: Sequence[str] | None = None,
) -> Comparison:
    """Run ``a`` and ``b`` on the same seeds and tabulate ``b - a`` for every metric."""
    start = time.perf_counter()
    base = a.seed if seed is None else seed
    seeds = [base] if replicates == 1 else replicate_seeds(base, replicates)
    runs = {
        label: [simulate(sc, s, record_agents_every=0, progress=progress) for s in seeds]
        for label, sc in (("a", a), ("b", b))
    }
    rows = []
    for key in runs["a"][0].summary["metrics"]:
        va = _mean([r.summary["metrics"][key] for r in runs["a"]])
        vb = _mean([r.summary["metrics"][key] for r in runs["b"]])
        delta = None if va is None or vb is None else vb - va
        rel = None if delta is None or not va else delta / abs(va)
        rows.append({"metric": key, a.name: va, b.name: vb, "difference": delta, "relative": rel})
    deltas = pd.DataFrame(rows)
    outcomes = {label: _counts(runs[label]) for label in runs}
    summary = {
        "a": a.name,
        "b": b.name,
        "seeds": seeds,
        "periods": a.periods,
        "currency": a.currency,
        "outcomes": {a.name: outcomes["a"], b.name: outcomes["b"]},
        "metrics": {r["metric"]: {a.name: r[a.name], b.name: r[b.name], "difference": r["difference"]} for r in rows},
    }
    result = Comparison(
        a,
        b,
        seeds,
        summary,
        deltas,
        {"a": [r.timeseries for r in runs["a"]], "b": [r.timeseries for r in runs["b"]]},
        time.perf_counter() - start,
    )
    if out is not None:
        result.out = write_comparison(result, out, command)
    return result


def _mean(values: list[Any]) -> float | None:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _counts(runs: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in runs:
        out[r.summary["outcome"]] = out.get(r.summary["outcome"], 0) + 1
    return out


def _median(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames).groupby("period").median().reset_index()


def write_comparison(result: Comparison, out: Path, command: Sequence[str] | None) -> Path:
    a, b = result.a, result.b
    pair = [(a.name, _median(result.timeseries["a"])), (b.name, _median(result.timeseries["b"]))]
    with staged_directory(out) as tmp:
        atomic_write_text(tmp / "summary.json", to_json(result.summary))
        write_frame_csv(result.deltas, tmp / "deltas.csv")
        for label, scenario in (("a", a), ("b", b)):
            frames = result.timeseries[label]
            write_frame_csv(
                pd.concat([f.assign(seed=s) for f, s in zip(frames, result.seeds, strict=True)]),
                tmp / f"timeseries_{label}.csv",
            )
            atomic_write_text(tmp / f"scenario_{label}.yaml", scenario.to_yaml())
        figures = {}
        for panel in plots.PANELS:
            figures[panel.name] = tmp / "plots" / f"{panel.name}.png"
            save_figure(
                plots.panel_figure(panel, pair=pair, currency=a.currency, band=tuple(a.market.fair_band)),
                figures[panel.name],
            )
        figures["overview"] = tmp / "plots" / "overview.png"
        save_figure(
            plots.overview_figure(
                f"{a.name} vs {b.name}", pair=pair, currency=a.currency, band=tuple(a.market.fair_band)
            ),
            figures["overview"],
        )
        atomic_write_text(tmp / "report.html", comparison_report(result, figures))
        atomic_write_text(
            tmp / "manifest.json",
            to_json(
                {
                    **manifest(a, result.seeds, result.wall_seconds, command),
                    "scenario_b": b.name,
                    "scenario_b_source": b.source,
                }
            ),
        )
    return out


def comparison_report(result: Comparison, figures: dict[str, Path]) -> str:
    a, b, s = result.a, result.b, result.summary
    cur = a.currency
    rows = ""
    for key, label, kind in KEY_METRICS:
        m = s["metrics"][key]
        diff = m["difference"]
        shown = "n/a" if diff is None else (_fmt(diff, kind, cur) if kind != "period" else f"{diff:+.0f}")
        rows += (
            f"<tr><td>{label}</td><td class='num'>{_fmt(m[a.name], kind, cur)}</td>"
            f"<td class='num'>{_fmt(m[b.name], kind, cur)}</td><td class='num'>{shown}</td></tr>"
        )
    badges = " vs ".join(
        f"{html.escape(n)}: "
        + ", ".join(
            f"<span class='badge' style='background:{OUTCOME_COLORS[o]}'>{o} x{c}</span>"
            for o, c in s["outcomes"][n].items()
        )
        for n in (a.name, b.name)
    )
    body = (
        f"<h1>{html.escape(a.name)} vs {html.escape(b.name)}</h1>"
        f"<p class='sub'>Same market seeds ({len(result.seeds)}): {html.escape(a.description)} / "
        f"{html.escape(b.description)}</p><p>{badges}</p>"
        f"<h2>At a glance</h2>{_img(figures['overview'], 'overview')}"
        f"<h2>Differences ({html.escape(b.name)} minus {html.escape(a.name)})</h2>"
        f"<table><tr><th></th><th>{html.escape(a.name)}</th><th>{html.escape(b.name)}</th><th>difference</th></tr>"
        f"{rows}</table>"
    )
    return page(
        f"procsim: {a.name} vs {b.name}",
        body,
        _footer(f"seeds {result.seeds[:3]}{'...' if len(result.seeds) > 3 else ''}"),
    )
