"""Side-by-side what-if: two scenarios on the same seeds, a delta table and overlay charts."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .outputs import atomic_write_text, manifest, save_charts, staged_directory, to_json, write_frame_csv
from .report import (
    KEY_METRICS,
    OUTCOME_COLORS,
    _fmt,
    _footer,
    _img,
    fmt_difference,
    header,
    matching_description,
    page,
    scenario_changes,
    story_html,
)
from .runner import RunResult, replicate_seeds, representative, simulate
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
    typical: dict[str, RunResult] | None = None  # a typical run of each side, for the plain-words summary


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
    for key, first in runs["a"][0].summary["metrics"].items():
        if isinstance(first, list | str):
            continue  # per-supplier lists and labels have no difference to take
        va = _mean([r.summary["metrics"][key] for r in runs["a"]])
        vb = _mean([r.summary["metrics"][key] for r in runs["b"]])
        delta = None if va is None or vb is None else vb - va
        rel = None if delta is None or not va else delta / abs(va)
        rows.append({"metric": key, a.name: va, b.name: vb, "difference": delta, "relative": rel})
    deltas = pd.DataFrame(rows)
    outcomes = {label: _counts(runs[label]) for label in runs}
    outlooks = {label: _counts(runs[label], "outlook") for label in runs}
    summary = {
        "a": a.name,
        "b": b.name,
        "seeds": seeds,
        "periods": a.periods,
        "currency": a.currency,
        "outcomes": {a.name: outcomes["a"], b.name: outcomes["b"]},
        "outlooks": {a.name: outlooks["a"], b.name: outlooks["b"]},
        "overrides": a.overrides,
        "descriptions": {a.name: a.description, b.name: b.description},
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
        typical={label: representative(runs[label]) for label in runs},
    )
    if out is not None:
        result.out = write_comparison(result, out, command)
    return result


def _mean(values: list[Any]) -> float | None:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _counts(runs: list[Any], key: str = "outcome") -> dict[str, int]:
    out: dict[str, int] = {}
    for r in runs:
        if r.summary.get(key):
            out[r.summary[key]] = out.get(r.summary[key], 0) + 1
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
        figures = save_charts(tmp, f"{a.name} vs {b.name}", a, pair=pair)
        atomic_write_text(tmp / "report.html", comparison_report(result, figures))
        comparison_workbook(result, tmp / "report.xlsx", [median for _, median in pair])
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
    cur, per_year = a.currency, a.periods_per_year
    rows = ""
    for key, label, kind in KEY_METRICS:
        m = s["metrics"][key]
        shown = html.escape(fmt_difference(m["difference"], kind, cur, per_year))
        rows += (
            f"<tr><td>{label}</td><td class='num'>{_fmt(m[a.name], kind, cur, per_year)}</td>"
            f"<td class='num'>{_fmt(m[b.name], kind, cur, per_year)}</td><td class='num'>{shown}</td></tr>"
        )
    changes = scenario_changes(a)
    descriptions = []
    stories = ""
    for sc in (a, b):
        typical = (result.typical or {}).get("a" if sc is a else "b")
        outcome = typical.summary["outcome"] if typical else None
        text = matching_description(sc.description, outcome, bool(changes))
        if text:
            descriptions.append(f"{sc.name}: {text}")
        if typical is not None:
            lines = story_html(typical.summary, typical.timeseries, typical.scenario)
            stories += (
                f"<h3>{html.escape(sc.name)} (a typical run, seed {typical.seed})</h3><div class='story'>{lines}</div>"
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
        f"{header(a, changes, ' / '.join(descriptions))}"
        f"<p class='sub'>Same market seeds ({len(result.seeds)}), {a.periods / per_year:g} years.</p><p>{badges}</p>{_outlook_line(s)}"
        f"<h2>What happened</h2>{stories}"
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


def _outlook_line(summary: dict[str, Any]) -> str:
    """Where each scenario's runs settle past the horizon, in one sentence."""
    parts = [
        f"{html.escape(name)}: " + ", ".join(f"{o} x{c}" for o, c in counts.items())
        for name, counts in summary.get("outlooks", {}).items()
        if counts
    ]
    return f"<p>Past the horizon (outlook): {'; '.join(parts)}.</p>" if parts else ""


def comparison_workbook(result: Comparison, path: Path, medians: list[pd.DataFrame]) -> None:
    """report.xlsx of a comparison: outcomes, the metric table with differences, both median series."""
    from .fmt import count_words
    from .workbook import _key_sheet, series_sheet, write_workbook

    a, b, s = result.a, result.b, result.summary
    rows = [
        ("Scenario A", a.name, "text"),
        ("Scenario B", b.name, "text"),
        ("Changes (overrides, both)", "; ".join(scenario_changes(a)) or "none", "text"),
        ("Seeds", len(result.seeds), "int"),
        ("Horizon (years)", a.periods / a.periods_per_year, "years"),
        (f"Outcomes {a.name}", count_words(s["outcomes"][a.name]), "text"),
        (f"Outcomes {b.name}", count_words(s["outcomes"][b.name]), "text"),
        *((f"Outlook {name}", count_words(counts), "text") for name, counts in s.get("outlooks", {}).items()),
    ]
    sheets = [
        _key_sheet(s["metrics"], (a.name, b.name, "difference")),
        series_sheet("Series A (median)", medians[0], a.periods_per_year),
        series_sheet("Series B (median)", medians[1], b.periods_per_year),
    ]
    write_workbook(path, title=f"procsim: {a.name} vs {b.name}", currency=a.currency, summary_rows=rows, sheets=sheets)
