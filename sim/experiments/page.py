"""The analysis page: a sweep's analysis written for people, as one self-contained ``analysis.html``.

Warnings first (what the checks found, each with what to do), then the answer (the tipping
sentence), the phase diagram, the tipping search, sensitivity, ranking, robustness across the
uncertainties, the time series and the PRIM box: parameters named and values in their units
(:mod:`sim.experiments.labels`), every user text escaped, figures embedded, tables in boxes
that scroll sideways. The sentences and table rows the terminal prints too come from here.
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.engine.schedule import Schedule
from sim.errors import InputError
from sim.experiments.labels import describe, format_metric, metric_name, outcome_words
from sim.experiments.phase import verdicts
from sim.experiments.spec import OUTCOME_NAMES, TIPPED_SHARE, Sweep
from sim.inputs.loading import build_scenario
from sim.reports.fmt import years
from sim.reports.pages import OUTCOME_COLORS, _img, page

if TYPE_CHECKING:
    from sim.experiments.analysis import Analysis
    from sim.experiments.robustness import Robustness

PAGE_STYLE = """
body{max-width:1200px}
.wide{overflow-x:auto;max-width:100%;border:1px solid #e5e7eb;border-radius:.4rem;margin:.5rem 0}
.wide table{margin:0;font-size:.92rem}th{vertical-align:bottom;white-space:nowrap;background:#f9fafb}
details{margin:.8rem 0}summary{cursor:pointer;font-weight:600;padding:.3rem 0}
.regime{background:#f3f4f6;border-radius:.5rem;padding:.6rem 1rem;margin:.8rem 0}
.warnings{background:#fffbeb;border:1px solid #f59e0b;border-radius:.5rem;padding:.4rem 1rem;margin:.8rem 0}
.warnings li{margin:.3rem 0}
.badges{margin:.3rem 0}.badges b{display:inline-block;min-width:13rem}.badge{margin:.15rem .1rem}
code{font-size:.85em;color:#4b5563}.wide td.num{white-space:nowrap}
"""  # added to the report's style, inside the page (its policy allows inline styles)


def regime_of(sweep: Sweep) -> str:
    """Which verdict the page reads: the tipping search's, else the phase diagram's, else the outlook."""
    spec = sweep.spec.analysis
    if spec.tipping is not None:
        return spec.tipping.regime
    return spec.phase.regime if spec.phase is not None else "outlook"


def base_scenario(sweep: Sweep) -> Any:
    """The sweep's base scenario (with its fixed settings), or None if it no longer loads."""
    try:
        return build_scenario(copy.deepcopy(sweep.base), source=sweep.source)
    except InputError:
        return None


def _base_value(scenario: Any, path: str) -> Any:
    """A path's value in a scenario (the first group's where a section holds groups)."""
    value: Any = scenario
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        value = getattr(value, part, None)
        if value is None:
            return None
    if isinstance(value, Schedule):
        return value.initial
    return value if isinstance(value, int | float | str) else None


def _regime_words(regime: str, scenario: Any) -> str:
    if regime == "outlook":
        return "in the long run"
    if scenario is None:
        return "by the horizon"
    return f"by the horizon ({years(scenario.periods, scenario.periods_per_year)})"


def tipping_sentence(result: Analysis, sweep: Sweep) -> str:
    """The tipping point in one plain sentence, in the parameter's unit, with the settings it holds at."""
    tip, spec = result.tipping, sweep.spec.analysis.tipping
    if tip is None or spec is None:
        return ""
    param = result.parameters.get(spec.parameter) or describe(spec.parameter, result.currency)
    scenario = base_scenario(sweep)
    what = outcome_words(list(spec.outcomes))
    when = _regime_words(spec.regime, scenario)
    fixed = {p: _base_value(scenario, p) for p in sweep.parameters if p != spec.parameter and scenario is not None}
    fixed.update(spec.set)
    held = [
        (result.parameters.get(p) or describe(p, result.currency)).with_value(v)
        for p, v in fixed.items()
        if v is not None and not isinstance(v, dict | list)
    ]
    at = f", at {' and '.join(held)}" if held else ""
    if tip.found and tip.estimate is not None and tip.ci is not None:
        side = "Above" if tip.increasing else "Below"
        return (
            f"{side} {param.with_value(tip.estimate)} (95% CI {param.span(*tip.ci)}) more than half the runs "
            f"{what} {when}{at}."
        )
    shares = tip.shares()
    low, high = shares.iloc[0], shares.iloc[-1]
    between = f"No tipping point between {param.with_value(low['value'])} and {param.with_value(high['value'])}"
    if low["tipped_share"] == high["tipped_share"] in (0.0, 1.0):
        which = "none of the runs" if low["tipped_share"] == 0 else "all the runs"
        return f"{between}: {which} {what} {when} at either end{at}."
    return (
        f"{between}: {low['tipped_share']:.0%} of the runs {what} {when} at {param.format(low['value'])} and "
        f"{high['tipped_share']:.0%} at {param.format(high['value'])}{at}."
    )


def _box(header: list[str], rows: list[list[str]], numeric: list[bool], note: str = "") -> str:
    """An escaped table in a box that scrolls sideways when it is wider than the page."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{html.escape(c)}</td>" if n else f"<td>{html.escape(c)}</td>"
            for c, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    more = f"<p class='sub'>{html.escape(note)}</p>" if note else ""
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>{more}"


def _param_cell(result: Analysis, column_paths: dict[str, str], column: str, value: Any) -> str:
    path = column_paths.get(column, column)
    return (result.parameters.get(path) or describe(path, result.currency)).format(value)


def _name(result: Analysis, path: str) -> str:
    return (result.parameters.get(path) or describe(path, result.currency)).name


def _tipped_share(result: Analysis, regime: str, outcomes: tuple[str, ...] = ("spiral", "collapse")) -> pd.Series:
    """Per design point: the share of its runs that spiral or collapse in ``regime``."""
    ok = result.runs[result.runs["status"] == "ok"]
    tipped = verdicts(ok, regime).isin(outcomes)
    return tipped.groupby(ok["point"]).mean()


def _ranking_table(result: Analysis, sweep: Sweep, columns: dict[str, str], regime: str, limit: int = 20) -> str:
    table = result.ranking
    if table is None:
        return ""
    paths = {c: p for p, c in columns.items()}
    params = [columns[p] for p in sweep.parameters if table[columns[p]].nunique() > 1] or [
        columns[p] for p in sweep.parameters
    ]
    metrics = [m for m in sweep.spec.analysis.rank_by if m in table]
    tipped = _tipped_share(result, regime)
    when = "long run" if regime == "outlook" else "horizon"
    named = bool(table["label"].astype(str).str.len().gt(0).any())  # a scenarios design names its points
    header = ["rank", *(["what-if"] if named else []), *[_name(result, paths[c]) for c in params], "runs"]
    header += [metric_name(m) for m in metrics] + [f"spiral or collapse ({when})"]
    rows = []
    for _, row in table.head(limit).iterrows():
        cells = [str(int(row[f"rank_{metrics[0]}"]))] if metrics else [""]
        cells += [str(row["label"])] if named else []
        cells += [_param_cell(result, paths, c, row[c]) for c in params]
        cells.append(f"{int(row['runs'])}")
        for m in metrics:
            ci = row.get(f"{m}_ci95")
            spread = f" ± {format_metric(m, ci, result.currency)}" if ci is not None and pd.notna(ci) and ci > 0 else ""
            cells.append(format_metric(m, row[m], result.currency) + spread)
        share = tipped.get(row["point"])
        cells.append("" if share is None else f"{100 * share:.0f}%")
        rows.append(cells)
    numeric = [True] + [False] * (len(params) + named) + [True] * (1 + len(metrics) + 1)
    note = f"first {limit} of {len(table)} design points; all in analysis/ranking.csv" if len(table) > limit else ""
    return _box(header, rows, numeric, note)


def _marginal_table(result: Analysis, column: str, path: str, table: pd.DataFrame) -> str:
    metrics = [c for c in table.columns if c not in (column, "runs")]
    header = [_name(result, path), "runs", *[metric_name(m) for m in metrics]]
    rows = [
        [_param_cell(result, {column: path}, column, row[column]), f"{int(row['runs'])}"]
        + [format_metric(m, row[m], result.currency) for m in metrics]
        for _, row in table.iterrows()
    ]
    return _box(header, rows, [False] + [True] * (1 + len(metrics)))


def _badges(counts: pd.Series) -> str:
    return " ".join(
        f"<span class='badge' style='background:{OUTCOME_COLORS[o]}'>{o}: {int(counts.get(o, 0))}</span>"
        for o in OUTCOME_NAMES
    )


def _note(result: Analysis, key: str) -> str:
    return f"<p class='sub'>Not shown: {html.escape(result.notes[key])}.</p>" if key in result.notes else ""


def render(result: Analysis, sweep: Sweep, manifest: dict[str, Any], figures: dict[str, Path]) -> str:
    """The self-contained analysis page (figures embedded), written for people: names, units, one answer first."""
    runs = result.runs
    columns: dict[str, str] = manifest["parameters"]
    regime = regime_of(sweep)
    scenario = base_scenario(sweep)
    failed = int((runs["status"] == "failed").sum())
    swept = ", ".join(f"{_name(result, p)} <code>{html.escape(p)}</code>" for p in sweep.parameters)
    parts = [
        f"<h1>Sweep {html.escape(sweep.name)}</h1><p class='sub'>{html.escape(sweep.spec.description)}</p>",
        (
            f"<p>{len(runs):,} runs over {len(sweep.points):,} design points ({html.escape(sweep.spec.design.kind)}), "
            f"{len(sweep.seeds)} seed(s) each; {failed} failed. Base scenario: "
            f"{html.escape(str(sweep.spec.base))}. Swept: {swept}.</p>"
        ),
    ]
    horizon = (
        f"period {scenario.periods} ({years(scenario.periods, scenario.periods_per_year)})"
        if scenario
        else "the horizon"
    )
    limit = scenario.outlook_periods if scenario else None
    if regime == "outlook":
        regime_text = (
            f"Outcomes on this page are read <b>in the long run</b> (the outlook): each run goes on past the "
            f"horizon ({horizon}) until it settles or collapses, for up to {limit} more periods; a run still "
            "moving then is <i>drifting</i>."
        )
    else:
        regime_text = (
            f"Outcomes on this page are read <b>at the horizon</b> ({horizon}): where each run stands at the end "
            "of the simulated years, not where it settles later."
        )
    parts.append(f"<div class='regime' id='regime'>{regime_text}</div>")
    parts.append(
        f"<div class='badges'><b>At the horizon ({html.escape(horizon)})</b> {_badges(runs['outcome'].value_counts())}</div>"
    )
    if "outlook" in runs and runs["outlook"].notna().any():
        parts.append(
            f"<div class='badges'><b>In the long run (outlook)</b> {_badges(runs['outlook'].value_counts())}</div>"
        )
    if result.caveats:
        items = "".join(f"<li><b>{html.escape(c.text)}</b>: {html.escape(c.advice)}.</li>" for c in result.caveats)
        parts.append(
            f"<div class='warnings' id='warnings'><p><b>Check before you read on</b> ({len(result.caveats)} "
            f"warning{'s' if len(result.caveats) > 1 else ''}; also in analysis/analysis.json):</p><ul>{items}</ul></div>"
        )
    if result.tipping is not None:
        parts.append(f"<p class='answer' id='tipping-sentence'>{html.escape(tipping_sentence(result, sweep))}</p>")

    parts.append("<h2>Phase diagram</h2>")
    if result.phase is not None and result.phase_axes is not None:
        x, y = (result.parameters[p] for p in result.phase_axes)
        when = "in the long run" if result.phase_regime == "outlook" else "at the horizon"
        parts.append(
            f"<p>Each cell is one setting of {html.escape(x.name)} and {html.escape(y.name)}, coloured by the "
            f"outcome most of its runs reach {when}. On the far side of the dashed line at least half of the runs "
            "spiral or collapse.</p>"
        )
        parts.append(_img(figures["phase"], "phase diagram: the most common outcome per cell"))
        parts.append(
            "<details><summary>Each outcome's share per cell, and the mean "
            f"{html.escape(metric_name(result.phase.metric))}</summary>"
            + _img(figures["phase_detail"], "phase diagram: share of each outcome")
            + "<p class='sub'>Every cell's counts are in analysis/phase.csv.</p></details>"
        )
    parts.append(_note(result, "phase"))

    parts.append("<h2>Tipping point</h2>")
    tip, tspec = result.tipping, sweep.spec.analysis.tipping
    if tip is not None and tspec is not None:
        param = result.parameters[tspec.parameter]
        parts.append(
            f"<p>Bisection on {html.escape(param.name)} between {html.escape(param.format(tspec.low))} and "
            f"{html.escape(param.format(tspec.high))}, {tspec.replicates} runs per value with the same seeds; "
            f"a logistic fit gives the point where half the runs tip and its 95% interval "
            f"({len(tip.evaluations):,} runs).</p>"
        )
        parts.append(_img(figures["tipping"], "tipping point"))
        shares = tip.shares()
        rows = [
            [param.format(r["value"], 2), f"{100 * r['tipped_share']:.0f}%", f"{int(r['runs'])}"]
            for _, r in shares.iterrows()
        ]
        parts.append(
            _box([param.name, f"runs that {outcome_words(list(tspec.outcomes))}", "runs"], rows, [True, True, True])
        )
    parts.append(_note(result, "tipping"))

    parts.append("<h2>Sensitivity</h2>")
    if result.sensitivity:
        parts.append(
            "<p>Indices of each lever for each metric, each design point averaged over its seeds first; "
            "intervals are 95% bootstrap confidence intervals (SALib).</p>"
        )
        parts.append(_img(figures["sensitivity"], "sensitivity indices"))
        for metric, table in result.sensitivity.items():
            header = [c.replace("_", " ") for c in table.columns]
            rows = [
                [_name(result, str(v)) if isinstance(v, str) else f"{v:.3f}" for v in row]
                for row in table.itertuples(index=False)
            ]
            numeric = [not isinstance(v, str) for v in table.iloc[0]]
            parts.append(f"<h3>{html.escape(metric_name(metric))}</h3>" + _box(header, rows, numeric))
    parts.append(_note(result, "sensitivity"))

    parts.append("<h2>Ranking</h2>")
    if result.ranking is not None:
        parts.append(
            "<p>Design points ranked by the first metric: means over seeds, ± the half-width of the 95% "
            f"interval of the mean, money in {html.escape(result.currency)} over the horizon.</p>"
            + _ranking_table(result, sweep, columns, regime)
        )
        paths = {c: p for p, c in columns.items()}
        for column, table in result.marginals.items():
            parts.append(
                f"<h3>By {html.escape(_name(result, paths.get(column, column)))} (averaged over everything else)</h3>"
                + _marginal_table(result, column, paths.get(column, column), table)
            )
    parts.append(_note(result, "ranking"))

    parts.append("<h2 id='robustness'>Robustness across the uncertainties</h2>")
    if result.robustness is not None:
        parts.append(f"<p>{html.escape(robustness_intro(result.robustness, result))}</p>")
        parts.append(_img(figures["robustness"], "robustness: regret and satisficing of each lever setting"))
        header, rows, numeric = robustness_rows(result.robustness, result)
        note = (
            f"first 20 of {len(result.robustness.table)} settings; all in analysis/robustness.csv (regret in every "
            "market: analysis/regret.csv)"
            if len(rows) > 20
            else "regret in every market: analysis/regret.csv; feature scores: analysis/feature_scores.csv"
        )
        parts.append(_box(header, rows[:20], numeric, note))
    parts.append(_note(result, "robustness"))

    parts.append("<h2 id='series'>Time series</h2>")
    if result.envelopes is not None:
        by = sweep.spec.analysis.envelopes.by if sweep.spec.analysis.envelopes else "outcome"
        grouping = {"outcome": "by outcome class", "point": "by design point"}.get(by, f"by {_name(result, by)}")
        parts.append(
            f"<p>Each line is the median over the runs of a group ({html.escape(grouping)}), the band around it "
            "holds the middle 80% of them (10th to 90th percentile), over the years simulated; the numbers are "
            "in analysis/envelopes.csv.</p>"
            + _img(figures["envelopes"], "time series: median and 10-90% band by group")
        )
    parts.append(_note(result, "envelopes"))

    parts.append("<h2>Scenario discovery (PRIM)</h2>")
    box = result.discovery
    if box is not None:
        paths = {c: p for p, c in columns.items()}
        rows = []
        for _, r in box.limits.iterrows():
            column = r["parameter"]
            parameter = result.parameters.get(paths.get(column, column)) or describe(column, result.currency)
            values = pd.to_numeric(runs[column], errors="coerce") if column in runs else pd.Series(dtype=float)
            span = float(values.max() - values.min()) if values.notna().any() else 0.0
            cells = [
                parameter.precise(v, span) if isinstance(v, int | float) else str(v) for v in (r["low"], r["high"])
            ]
            rows.append([parameter.name, *cells])
        what = html.escape(box.outcome)
        parts.append(
            f"<p>The box below is where <b>{what}</b> concentrates: it holds {box.coverage:.0%} of the runs that end "
            f"in {what} (coverage), {box.density:.0%} of the runs inside it end in {what} (density), and it holds "
            f"{box.mass:.0%} of all the sweep's runs (mass). The runs are exported for the EMA Workbench in "
            f"<code>analysis/{html.escape(box.export.name)}</code> (<code>ema_workbench.load_results</code>).</p>"
            + _box(["parameter", "from", "to"], rows, [False, True, True])
        )
    parts.append(_note(result, "discovery"))
    environment = manifest.get("environment") if isinstance(manifest.get("environment"), dict) else {}
    footer = (
        f"procsim {html.escape(str(environment.get('procsim')))} &middot; sweep fingerprint "
        f"{html.escape(str(manifest['fingerprint'])[:12])} &middot; tables as CSV in analysis/"
    )
    return page(f"{sweep.name} analysis", f"<style>{PAGE_STYLE}</style>" + "".join(parts), footer)


def robustness_intro(found: Robustness, result: Analysis) -> str:
    """What the robustness table measures, in one paragraph."""
    spec = found.spec
    metric = metric_name(spec.metric)
    settings, markets = len(found.table), len(found.regret.columns)
    goal = "most" if spec.goal == "max" else "least"
    return (
        f"{settings} lever settings ({', '.join(_name_column(found, c) for c in found.levers)}) in "
        f"{markets} markets ({', '.join(_name_column(found, c) for c in found.uncertainties)}). Regret: how much "
        f"{metric} a setting gives up against the setting with the {goal} {metric} in the same market (means over "
        f"seeds); ranked by the maximum regret over the markets, the minimax choice first. Satisficing: the share "
        f"of markets where {threshold_words(found, result)}."
    )


def threshold_words(found: Robustness, result: Analysis) -> str:
    """The satisficing threshold in words: ``at most 50% of its runs spiral or collapse in the long run``."""
    threshold = found.spec.threshold
    side, bound = ("at least", threshold.at_least) if threshold.at_least is not None else ("at most", threshold.at_most)
    if threshold.metric == TIPPED_SHARE:
        when = "in the long run" if found.spec.regime == "outlook" else "at the horizon"
        return f"{side} {bound:.0%} of its runs spiral or collapse {when}"
    return (
        f"its mean {metric_name(threshold.metric)} is {side} {format_metric(threshold.metric, bound, result.currency)}"
    )


def robustness_rows(found: Robustness, result: Analysis) -> tuple[list[str], list[list[str]], list[bool]]:
    """The robustness table for people (the page and the terminal print these same cells)."""
    metric = found.spec.metric
    header = [
        "rank",
        "lever setting",
        "markets",
        f"mean {metric_name(metric)}",
        "mean regret",
        "maximum regret",
        "satisfies in",
    ]
    rows = [
        [
            str(int(r["rank"])),
            str(r["setting"]),
            str(int(r["markets"])),
            format_metric(metric, r["mean"], result.currency),
            format_metric(metric, r["mean_regret"], result.currency),
            format_metric(metric, r["max_regret"], result.currency),
            f"{r['satisficing']:.0%} of markets",
        ]
        for _, r in found.table.iterrows()
    ]
    return header, rows, [True, False, True, True, True, True, True]


def _name_column(found: Robustness, column: str) -> str:
    if column == "label":
        return "what-if"
    parameter = found.names.get(column)
    return parameter.name if parameter is not None else column.replace("_", " ")
