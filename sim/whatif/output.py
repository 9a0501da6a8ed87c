"""A what-if's files: the answer first in report.html and report.xlsx, both runs' charts, the account table.

Everything shown is read from the one summary (``answer``, ``metrics``) and the one
per-account table, so the terminal, the HTML report and the workbook agree.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.reports.files import atomic_write_text, manifest, staged_directory, to_json, write_frame_csv
from sim.reports.fmt import count_words, money, pct, signed_money
from sim.reports.pages import (
    KEY_METRICS,
    OUTCOME_COLORS,
    _fmt,
    _footer,
    _img,
    fmt_difference,
    header,
    page,
    posterior_note,
    story_html,
)
from sim.reports.run_folder import save_charts
from sim.reports.workbook import ACCOUNT_HEADERS, ACCOUNT_KINDS, Sheet, _key_sheet, series_sheet, write_workbook

if TYPE_CHECKING:
    from sim.whatif.answer import WhatIf

SIDE_NAMES = {"base": "base", "whatif": "what-if"}


def _median(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames).groupby("period").median().reset_index()


def write_whatif(result: WhatIf, out: Path, command: Sequence[str] | None) -> Path:
    """All outputs of a what-if, published atomically at ``out``."""
    base, variant = result.base, result.variant
    medians = {side: _median(frames) for side, frames in result.timeseries.items()}
    pair = [(SIDE_NAMES[side], medians[side]) for side in ("base", "whatif")]
    with staged_directory(out) as tmp:
        atomic_write_text(tmp / "summary.json", to_json(result.summary))
        write_frame_csv(result.accounts, tmp / "accounts.csv")
        for side, frames in result.timeseries.items():
            write_frame_csv(
                pd.concat([f.assign(seed=s) for f, s in zip(frames, result.seeds, strict=True)]),
                tmp / f"timeseries_{side}.csv",
            )
        atomic_write_text(tmp / "scenario_base.yaml", base.to_yaml())
        atomic_write_text(tmp / "scenario.yaml", variant.to_yaml())
        figures = save_charts(
            tmp, f"What-if: {result.label} (medians over {len(result.seeds)} seeds)", variant, pair=pair
        )
        atomic_write_text(tmp / "report.html", whatif_report(result, figures))
        whatif_workbook(result, tmp / "report.xlsx", medians)
        atomic_write_text(
            tmp / "manifest.json",
            to_json(
                {
                    **manifest(variant, result.seeds, result.wall_seconds, command),
                    "kind": "whatif",
                    "label": result.label,
                    "base_scenario_sha256": manifest(base, result.seeds, 0, None)["scenario_sha256"],
                }
            ),
        )
    return out


# --------------------------------------------------------------------------- the account table in HTML

COLUMNS = (
    ("discount", "discount at the end", "pct"),
    ("volume", "volume", "money"),
    ("contribution", "profit contribution", "money"),
    ("customer_value", "value to the customer", "money"),
    ("supplier_value", "value to you", "money"),
)


def account_rows_html(table: pd.DataFrame, currency: str, runs: int) -> str:
    """The per-account table: base and what-if side by side, reached accounts highlighted."""
    head = (
        "<tr><th rowspan='2'>account</th><th rowspan='2'>segment</th>"
        + "".join(
            f"<th colspan='2'>{label}{'' if kind == 'pct' else f' ({html.escape(currency)})'}</th>"
            for _, label, kind in COLUMNS
        )
        + f"<th rowspan='2'>profit contribution change ({html.escape(currency)})</th>"
        "<th rowspan='2'>switched or lost (base / what-if)</th><th rowspan='2'>parity reached</th></tr><tr>"
        + "<th>base</th><th>what-if</th>" * len(COLUMNS)
        + "</tr>"
    )
    body = []
    for row in table.itertuples(index=False):
        r = row._asdict()
        cls = "total" if r["account"] == "market total" else ("reached" if r["highlight"] else "")
        cells = [f"<td>{html.escape(str(r['account']))}{' (granted)' if r['granted'] else ''}</td>"]
        cells.append(f"<td>{html.escape(str(r['segment']))}</td>")
        for key, _, kind in COLUMNS:
            for side in ("base", "whatif"):
                value = r[f"{key}_{side}"]
                shown = pct(value, 1) if kind == "pct" else money(value, currency).replace(f"{currency} ", "")
                cells.append(f"<td class='num'>{html.escape(shown)}</td>")
        cells.append(
            f"<td class='num'>"
            f"{html.escape(signed_money(r['contribution_change'], currency).replace(f'{currency} ', ''))}</td>"
        )
        cells.append(f"<td>{html.escape(r['status_base'])} / {html.escape(r['status_whatif'])}</td>")
        reached = r["reached"]
        if r["customers"] == 1:
            shown = f"in {reached * runs:.0f} of {runs} runs" if reached else ""
        else:
            shown = f"{reached:.1f} of {r['customers']} (mean)" if reached else ""
        cells.append(f"<td>{shown}</td>")
        body.append(f"<tr class='{cls}'>{''.join(cells)}</tr>")
    return f"<div class='wide'><table class='accounts'>{head}{''.join(body)}</table></div>"


def whatif_report(result: WhatIf, figures: dict[str, Path]) -> str:
    """The what-if's HTML report: the answer, both outcomes, the stories, charts and the account table."""
    s = result.summary
    cur, per_year = s["currency"], s["periods_per_year"]
    runs = len(result.seeds)
    badges = " &nbsp; ".join(
        f"{SIDE_NAMES[side]}: <span class='badge' style='background:{OUTCOME_COLORS[s['outcome'][side]]}'>"
        f"{html.escape(s['outcome'][side])}</span> ({count_words(s['outcomes'][side])})"
        for side in ("base", "whatif")
    )
    from sim.runs.runner import representative

    stories = ""
    for side in ("base", "whatif"):
        typical = representative(result.runs[side])
        lines = story_html(typical.summary, typical.timeseries, typical.scenario)
        stories += f"<h3>{SIDE_NAMES[side]} (a typical run, seed {typical.seed})</h3><div class='story'>{lines}</div>"
    rows = ""
    for key, label, kind in KEY_METRICS:
        m = s["metrics"][key]
        rows += (
            f"<tr><td>{label}</td><td class='num'>{_fmt(m['base'], kind, cur, per_year)}</td>"
            f"<td class='num'>{_fmt(m['whatif'], kind, cur, per_year)}</td>"
            f"<td class='num'>{html.escape(fmt_difference(m['difference'], kind, cur, per_year))}</td></tr>"
        )
    body = (
        f"<h1>What-if: {html.escape(result.label)}</h1>"
        f"{header(result.variant, s['changes'] + [f'both sides: --set {k}={v}' for k, v in s['base_overrides'].items()], s['description'])}"
        f"<p class='answer' id='answer'>{html.escape(s['answer']['text'])}.</p>{posterior_note(s)}"
        f"<p>{badges}; {runs} seed(s), {s['periods'] / per_year:g} years; you are the first supplier.</p>"
        f"<h2>Accounts, by impact</h2>"
        "<p class='sub'>Totals over the horizon, means over the seeds; highlighted: accounts whose discount the "
        "parity spread raised (in at least half the runs).</p>"
        f"{account_rows_html(result.accounts, cur, runs)}"
        f"<h2>Both runs</h2>{_img(figures['overview'], 'overview: base and what-if')}"
        f"<h2>What happened</h2>{stories}"
        f"<h2>Key figures (means)</h2><table><tr><th></th><th>base</th><th>what-if</th><th>difference</th></tr>"
        f"{rows}</table>"
    )
    return page(f"procsim what-if: {result.label}", body, _footer(f"{runs} seeds from {result.seeds[0]}"))


# --------------------------------------------------------------------------- the workbook


def answer_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The answer's figures as (label, value, kind): the same numbers as summary.json's ``answer``."""
    a = summary["answer"]
    rows: list[tuple[str, Any, str]] = [
        ("Answer", a["text"], "sentence"),
        ("Horizon (years)", a["horizon_years"], "years"),
        ("Your profit change (mean)", a["profit_change"]["mean"], "money"),
        ("Your profit change (10th percentile)", a["profit_change"]["p10"], "money"),
        ("Your profit change (90th percentile)", a["profit_change"]["p90"], "money"),
        ("Capability index change", a["capability_index_change"], "signed_index"),
        ("Joint value change", a["joint_value_change"], "money"),
    ]
    if a["target"] is not None:
        rows += [
            ("Granted to", a["target"], "text"),
            (f"{a['target']}: value change", a["target_value_change"], "money"),
            ("Peers (mean)", a["peers"], "number"),
            ("Peers demanding parity (mean)", a["peers_demanding_parity"], "number"),
            ("Parity window (years)", a["parity_window_years"], "years"),
        ]
    return rows


def whatif_workbook(result: WhatIf, path: Path, medians: dict[str, pd.DataFrame]) -> None:
    s = result.summary
    rows: list[tuple[str, Any, str]] = [
        ("What-if", result.label, "text"),
        ("Base scenario", s["scenario"], "text"),
        ("Description", s["description"], "text"),
        ("Changes (overrides and grants)", "; ".join(s["changes"]) or "none", "text"),
        ("Seeds", len(result.seeds), "int"),
        ("The answer", None, "heading"),
        *answer_rows(s),
        ("Outcomes", None, "heading"),
        *[
            (f"{SIDE_NAMES[side]}: {o}", n, "int")
            for side in ("base", "whatif")
            for o, n in s["outcomes"][side].items()
        ],
    ]
    table = result.accounts
    columns = ["account", "segment", "customers"]
    kinds = dict(ACCOUNT_KINDS)
    headers = {}
    for key in ("discount", "volume", "contribution", "customer_value", "supplier_value", "switched", "left"):
        for side in ("base", "whatif"):
            columns.append(f"{key}_{side}")
            kinds[f"{key}_{side}"] = ACCOUNT_KINDS[key]
            headers[f"{key}_{side}"] = f"{ACCOUNT_HEADERS[key]} ({SIDE_NAMES[side]})"
    columns += ["contribution_change", "granted", "reached", "status_base", "status_whatif"]
    kinds.update({"contribution_change": "money", "reached": "number"})
    headers.update({"reached": "parity reached (share of runs, or customers)"})
    sheets = [
        Sheet("Accounts", table[columns], kinds, highlight=list(table["highlight"]), headers=headers),
        _key_sheet(s["metrics"], ("base", "whatif", "difference")),
        series_sheet("Series base (median)", medians["base"], s["periods_per_year"]),
        series_sheet("Series what-if (median)", medians["whatif"], s["periods_per_year"]),
    ]
    write_workbook(
        path, title=f"procsim what-if: {result.label}", currency=s["currency"], summary_rows=rows, sheets=sheets
    )
