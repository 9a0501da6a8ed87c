"""A comparison's folder: the report, the workbook, the differences and the overlay charts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.compare.comparison import Comparison, _median
from sim.reports.files import atomic_write_text, manifest, staged_directory, to_json, write_frame_csv
from sim.reports.pages import (
    KEY_METRICS,
    OUTCOME_COLORS,
    _fmt,
    _footer,
    _img,
    fmt_difference,
    header,
    matching_description,
    page,
    posterior_note,
    scenario_changes,
    story_html,
)
from sim.reports.run_folder import save_charts


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
        f"{header(a, changes, ' / '.join(descriptions))}{posterior_note(s)}"
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
    from sim.reports.fmt import count_words
    from sim.reports.workbook import _key_sheet, series_sheet, write_workbook

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
