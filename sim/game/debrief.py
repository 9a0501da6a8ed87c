"""The room's debrief: every table against the balanced policy, the ranking, the questions, the exports.

The same chart specifications draw the SVG charts on the pages and in the handout and the
PNG files, so every export agrees with the screen. Every chart's y axis includes zero and
its x axis is the game's horizon in years. Money is shown as each side sees it: the
supplier's *profit (cash)* and *value* (its economic value of the exchange) and
procurement's *savings (cash)* and *value* are separate figures, never summed together;
the *joint value* is procurement's value plus the supplier's value.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.game.bots import team_name
from sim.game.table import ANSWERS, BOT, series_totals
from sim.reports.cells import spreadsheet_frame
from sim.reports.files import staged_directory
from sim.reports.pages import CSP, money
from sim.reports.svg import Line, line_chart

if TYPE_CHECKING:
    from sim.game.session import Session

QUESTIONS = (
    "When did the supplier start cutting investment, and when did procurement first notice?",
    "Who paid for the discounts in the end? Compare both sides' cash and value with the balanced policy.",
    "Which table created the most joint value, and what did it do differently?",
    "Which answer slowed the spiral most: a discount, service instead, or holding the price? Why?",
    "What would procurement need to see to stop asking (value visibility)?",
    "Where in your own business are the capability lines bending right now, unseen?",
)
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
)
# The game's charts are drawn for a phone's width (one per row, about 350 px): labels of 12 units
# in a 340-unit-wide chart stay at 12 px there, and grow on wider screens. Titles stay short
# (about 30 characters) to fit beside the axis at that size.
CHART_TEXT = 12
CHART_SIZE = (340, 210)
BALANCED_COLOR, BALANCED_DASH = "#111111", "5 3"
BALANCED = "Balanced policy"
POLICY = (
    "The balanced policy is the same market on the same seed in which the supplier holds its price "
    "and explains the value it funds, and procurement's demand follows the scenario."
)


@dataclass(frozen=True)
class ChartSpec:
    """A debrief chart: an id (file name), a title, a unit and how to read its series from a table's data."""

    id: str
    title: str
    unit: str
    read: Callable[[pd.DataFrame], pd.Series]


def chart_specs(currency: str) -> tuple[ChartSpec, ...]:
    """The debrief's charts, hidden variables included."""

    def column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda ts: ts[name]

    def investment_share(ts: pd.DataFrame) -> pd.Series:
        need = ts["investment_desired"].where(ts["investment_desired"] > 0)
        return (ts["investment"] / need).fillna(0.0)

    return (
        ChartSpec("discount", "Discount granted", "share", column("discount_mean")),
        ChartSpec("capability", "Hidden: capabilities (1 = start)", "index", column("capability_index")),
        ChartSpec("investment", "Hidden: investment / need", "share", investment_share),
        ChartSpec("joint_value", f"Joint value ({currency})", "money", column("joint_value")),
        ChartSpec("procurement_savings", f"Procurement savings, cash ({currency})", "money", column("savings")),
        ChartSpec("procurement_value", f"Procurement value ({currency})", "money", column("customer_value")),
        ChartSpec("supplier_profit", f"Supplier profit, cash ({currency})", "money", column("supplier_profit")),
        ChartSpec("supplier_value", f"Supplier value ({currency})", "money", column("supplier_value")),
    )


def legend(session: Session) -> list[dict[str, str]]:
    """One entry per table and one for the balanced policy: name, colour, dash."""
    entries = [
        {"name": t.name, "color": PALETTE[t.index % len(PALETTE)], "dash": "" if t.index < len(PALETTE) else "2 2"}
        for t in session.tables
    ]
    return [*entries, {"name": BALANCED, "color": BALANCED_COLOR, "dash": BALANCED_DASH}]


def _lines(session: Session, spec: ChartSpec) -> list[Line]:
    entries = legend(session)
    out = []
    for table, entry in zip(session.tables, entries, strict=False):
        out.append(Line(spec.read(table.series()).tolist(), entry["name"], entry["color"], entry["dash"]))
    balanced = session.balanced().iloc[: session.played_periods()]
    out.append(Line(spec.read(balanced).tolist(), BALANCED, BALANCED_COLOR, BALANCED_DASH))
    return out


def svg_charts(session: Session) -> list[dict[str, str]]:
    """The debrief charts as SVG (id, title, svg), every table against the balanced policy."""
    scenario = session.scenario
    return [
        {
            "id": spec.id,
            "title": spec.title,
            "svg": line_chart(
                spec.title,
                _lines(session, spec),
                periods=session.periods,
                unit=spec.unit,
                floor=0.0,
                per_year=scenario.periods_per_year,
                legend=False,
                chart_id=f"debrief-{spec.id}",
                text=CHART_TEXT,
                size=CHART_SIZE,
            ),
        }
        for spec in chart_specs(scenario.currency)
    ]


def png_chart(session: Session, spec: ChartSpec) -> bytes:
    """One debrief chart as PNG (same data and axes as the SVG; legend beside the plot)."""
    scenario = session.scenario
    per_year, currency = scenario.periods_per_year, scenario.currency
    fig = Figure(figsize=(8, 4.2), dpi=100, layout="constrained")
    ax = fig.subplots()
    low = 0.0
    for line in _lines(session, spec):
        years = [(i + 1) / per_year for i in range(len(line.values))]
        dashes = [float(d) for d in line.dash.split()] if line.dash else []
        (drawn,) = ax.plot(years, line.values, color=line.color, lw=2, label=line.label)
        if dashes:
            drawn.set_dashes(dashes)
        low = min([low, *line.values])
    ax.set_xlim(0, session.periods / per_year)
    ax.set_ylim(bottom=low)
    ax.set_xlabel("years")
    ax.set_title(spec.title, fontsize=11)
    if spec.unit == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif spec.unit == "money":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: money(v, currency)))
    ax.grid(color="#e5e7eb")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    fig.clear()
    return buffer.getvalue()


def balanced_totals(session: Session, periods: int) -> dict[str, float]:
    """The balanced policy's totals over its first ``periods`` periods."""
    return series_totals(session.balanced().iloc[:periods])


def ranking(session: Session) -> list[dict]:
    """Tables ranked by joint value over the periods each played, with each side's figures and the balanced ones."""
    rows = []
    for table in session.tables:
        totals = table.totals()
        reference = balanced_totals(session, table.model.period)
        rows.append(
            {
                "table": table.name,
                "procurement_team": table.teams["procurement"] or "",
                "supplier_team": table.teams["supplier"] or "",
                "rounds": table.rounds_played,
                **totals,
                **{f"balanced_{k}": v for k, v in reference.items()},
            }
        )
    rows.sort(key=lambda r: -r["joint_value"])
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def round_rows(session: Session) -> pd.DataFrame:
    """Every table's rounds, one row each, with the balanced policy's figures for the same periods."""
    balanced = session.balanced()
    rows = []
    for table in session.tables:
        for entry in table.log:
            b = balanced[(balanced["period"] >= entry["first_period"]) & (balanced["period"] <= entry["last_period"])]
            rows.append(
                {
                    "table": table.index + 1,
                    "table_name": table.name,
                    "procurement_team": table.teams["procurement"] or "",
                    "supplier_team": table.teams["supplier"] or "",
                    **entry,
                    "balanced_procurement_savings": float(b["savings"].sum()),
                    "balanced_customer_value": float(b["customer_value"].sum()),
                    "balanced_supplier_profit": float(b["supplier_profit"].sum()),
                    "balanced_supplier_value": float(b["supplier_value"].sum()),
                    "balanced_joint_value": float(b["joint_value"].sum()),
                }
            )
    return pd.DataFrame(rows)


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as CSV for a spreadsheet: people's text neutralised (sim.reports.cells), numbers written out in full.

    Numbers are the shortest text that reads back as the same number, never in scientific
    notation (a spreadsheet set to another locale would read 1.2e-05 as text).
    """
    safe = spreadsheet_frame(frame)
    for column in safe.columns:
        if pd.api.types.is_float_dtype(safe[column]):
            safe[column] = [np.format_float_positional(v, trim="-") if np.isfinite(v) else "" for v in safe[column]]
    return safe.to_csv(index=False, lineterminator="\n")


def rounds_csv(session: Session) -> str:
    """The CSV export: every table's rounds (see round_rows)."""
    return csv_text(round_rows(session))


def ranking_display(session: Session) -> tuple[list[str], list[list[str]]]:
    """The ranking as a table for people: headers and rows of formatted text (balanced policy last)."""
    cur = session.scenario.currency
    headers = [
        "Rank",
        "Table (procurement / supplier)",
        "Joint value",
        "vs balanced",
        "Procurement savings (cash)",
        "Procurement value",
        "Supplier profit (cash)",
        "Supplier value",
    ]
    rows = []
    for r in ranking(session):
        rows.append(
            [
                str(r["rank"]),
                f"{r['table']} ({r['procurement_team'] or '-'} / {r['supplier_team'] or '-'})",
                money(r["joint_value"], cur),
                money(r["joint_value"] - r["balanced_joint_value"], cur),
                money(r["procurement_savings"], cur),
                money(r["customer_value"], cur),
                money(r["supplier_profit"], cur),
                money(r["supplier_value"], cur),
            ]
        )
    ref = balanced_totals(session, session.played_periods())
    rows.append(
        [
            "",
            BALANCED,
            money(ref["joint_value"], cur),
            "",
            money(ref["procurement_savings"], cur),
            money(ref["customer_value"], cur),
            money(ref["supplier_profit"], cur),
            money(ref["supplier_value"], cur),
        ]
    )
    return headers, rows


def _table_html(headers: list[str], rows: list[list[str]], css: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def title(session: Session) -> str:
    """The debrief's heading: scenario, rounds played and seed."""
    played = max((t.rounds_played for t in session.tables), default=0)
    return f"Debrief: {session.settings.scenario}, {played} of {session.settings.rounds} rounds, seed {session.seed}"


def handout_html(session: Session) -> str:
    """One self-contained HTML page to hand out: charts, ranking, every table's rounds, the questions."""
    cur = session.scenario.currency
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        # No script at all, as every page procsim writes: names typed in the room are shown escaped.
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        f"<title>{html.escape(title(session))}</title>",
        (
            "<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:24px auto;padding:0 16px;color:#111}"
            "table{border-collapse:collapse;margin:8px 0 20px}th,td{padding:4px 10px;text-align:right}"
            ".ranking :is(th,td):nth-child(-n+2),.rounds :is(th,td):nth-child(-n+3){text-align:left}"
            "tr:nth-child(even){background:#f3f4f6}"
            ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}"
            ".legend span{display:inline-block;margin-right:16px}.swatch{display:inline-block;width:18px;height:3px;"
            "vertical-align:middle;margin-right:6px}</style></head><body>"
        ),
        f"<h1>{html.escape(title(session))}</h1>",
        (
            f"<p>{html.escape(POLICY)} Money is per period in {html.escape(cur)}; <b>cash</b> figures (procurement's "
            "savings, the supplier's profit) and <b>value</b> figures (what the exchange is worth to each side) are "
            "shown separately; joint value is procurement's value plus the supplier's value.</p>"
        ),
        "<h2>Ranking by joint value</h2>",
        _table_html(*ranking_display(session), "ranking"),
        "<h2>Every table against the balanced policy</h2><p class='legend'>",
    ]
    for entry in legend(session):
        style = f"background:{html.escape(entry['color'])}"
        parts.append(f"<span><i class='swatch' style='{style}'></i>{html.escape(entry['name'])}</span>")
    parts.append("</p><div class='charts'>")
    parts += [f"<div>{chart['svg']}</div>" for chart in svg_charts(session)]
    parts.append("</div><h2>Rounds</h2>")
    for table in session.tables:
        teams = f"procurement: {table.teams['procurement'] or '-'}, supplier: {table.teams['supplier'] or '-'}"
        parts.append(f"<h3>{html.escape(table.name)} ({html.escape(teams)})</h3>")
        parts.append(_table_html(*round_log_display(table.log, cur), "rounds"))
    parts.append("<h2>Questions</h2><ol>")
    parts += [f"<li>{html.escape(q)}</li>" for q in QUESTIONS]
    parts.append("</ol></body></html>\n")
    return "".join(parts)


def answer_label(answer: str) -> str:
    """An answer as people read it (a bot's: the bot's team name)."""
    return team_name(answer.removeprefix(BOT)) if answer.startswith(BOT) else ANSWERS[answer]


def round_log_display(log: list[dict], currency: str, side: str = "both") -> tuple[list[str], list[list[str]]]:
    """A table's rounds for people; ``side`` keeps only what one team may see during the game."""
    headers = ["Round", "Demand", "Answer", "Points", "Discount after"]
    if side in ("both", "procurement"):
        headers += ["Procurement savings (cash)", "Procurement value"]
    if side in ("both", "supplier"):
        headers += ["Supplier profit (cash)", "Supplier value"]
    if side == "both":
        headers += ["Capability after"]
    rows = []
    for r in log:
        row = [
            str(r["round"]),
            f"{r['demand']:.1%}" + (" (repeated)" if r["demand_repeated"] else ""),
            answer_label(r["answer"]) + (" (repeated)" if r["answer_repeated"] else ""),
            f"{r['points']:.1%}",
            f"{r['discount_after']:.1%}",
        ]
        if side in ("both", "procurement"):
            row += [money(r["procurement_savings"], currency), money(r["customer_value"], currency)]
        if side in ("both", "supplier"):
            row += [money(r["supplier_profit"], currency), money(r["supplier_value"], currency)]
        if side == "both":
            row += [f"{r['capability_index']:.2f}"]
        rows.append(row)
    return headers, rows


def export(session: Session, folder: str | Path) -> Path:
    """Write the session's debrief into ``folder`` at once (a staged folder renamed into place).

    Call it at the debrief, when no table changes any more: it does not hold the session's
    lock while it draws (seconds for many tables), so the room's pages keep answering.

    Files: one PNG per chart (``chart-<id>.png``), ``rounds.csv`` (every table's rounds),
    ``debrief.html`` (the handout) and ``manifest.json`` (settings and the files).
    """
    from sim.version import __version__

    folder = Path(folder)
    with staged_directory(folder) as tmp:
        specs = chart_specs(session.scenario.currency)
        files = []
        for spec in specs:
            (tmp / f"chart-{spec.id}.png").write_bytes(png_chart(session, spec))
            files.append(f"chart-{spec.id}.png")
        (tmp / "rounds.csv").write_text(rounds_csv(session), encoding="utf-8", newline="\n")
        (tmp / "debrief.html").write_text(handout_html(session), encoding="utf-8", newline="\n")
        files += ["rounds.csv", "debrief.html"]
        s = session.settings
        manifest = {
            "procsim": __version__,
            "session": session.code,
            "scenario": s.scenario,
            "rounds": s.rounds,
            "seed": session.seed,
            "tables": [t.name for t in session.tables],
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def export_file(session: Session, name: str) -> tuple[bytes, str]:
    """One export file by name, made in memory (for downloads; at the debrief, as export()): bytes and media type."""
    if name == "rounds.csv":
        return rounds_csv(session).encode(), "text/csv; charset=utf-8"
    if name == "debrief.html":
        return handout_html(session).encode(), "text/html; charset=utf-8"
    for spec in chart_specs(session.scenario.currency):
        if name == f"chart-{spec.id}.png":
            return png_chart(session, spec), "image/png"
    raise KeyError(name)
