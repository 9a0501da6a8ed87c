"""The what-if's report.xlsx: the answer and its parts with their ranges, year by year, a cost curve, the accounts.

Every number is the value summary.json holds (formatted by the cell, never rounded), every
label the one the terminal and report.html print (:func:`sim.whatif.words.answer_lines`),
and each table that answers a question has a native chart beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.reports.workbook import Chart, Sheet, _key_sheet, account_sheet, series_sheet, write_workbook
from sim.whatif.page import SIDE_NAMES
from sim.whatif.table import shown_columns
from sim.whatif.words import answer_lines, level_text

if TYPE_CHECKING:
    from pathlib import Path

    from sim.whatif.answer import WhatIf


def answer_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The answer's figures as (label, value, kind): the same numbers and words as summary.json's ``answer``."""
    a = summary["answer"]
    rows: list[tuple[str, Any, str]] = []
    if summary.get("curve"):
        rows.append(("Cost curve", summary["curve"]["text"], "sentence"))
    rows += [("Answer", a["text"], "sentence"), ("Horizon (years)", a["horizon_years"], "years")]
    rows += [(ln.label.strip(), ln.mean, "money") for ln in answer_lines(a)]
    rows += [
        ("Discount rate of the NPV (a year)", a["rate"], "pct"),
        ("Capability index change", a["capability_index_change"], "signed_index"),
        ("Joint value change", a["joint_value_change"], "money"),
    ]
    for g in a.get("grants") or []:
        rows.append((f"Granted to {g['to']}", g["level"], "pct"))
        if g.get("current") is not None:
            rows.append((f"{g['to']}: current discount", g["current"], "pct"))
    if a["target"] is not None:
        rows += [
            (f"{a['target']}: share of runs it stays with you", a["target_kept"], "pct"),
            (f"{a['target']}: the same without the change", a["target_kept_base"], "pct"),
            ("Peers (mean)", a["peers"], "number"),
            ("Peers demanding parity (mean)", a["peers_demanding_parity"], "number"),
            ("Parity window (years)", a["parity_window_years"], "years"),
        ]
    return rows


def _lines_sheet(summary: dict[str, Any]) -> tuple[Sheet, Chart]:
    lines = answer_lines(summary["answer"])
    frame = pd.DataFrame([{"figure": ln.label.strip(), "mean": ln.mean, "p10": ln.p10, "p90": ln.p90} for ln in lines])
    headers = {
        "figure": "Figure (your profit, what-if minus base)",
        "mean": "Mean",
        "p10": "10th percentile",
        "p90": "90th percentile",
    }
    parts = frame[frame["figure"].str.startswith(("your profit, change over", "of which"))].copy()
    parts["figure"] = parts["figure"].str.removeprefix("of which: ")
    chart = Chart("Where it comes from", "figure", ("mean",), kind="bar")
    sheet = Sheet("Answer", frame, {"mean": "money", "p10": "money", "p90": "money"}, headers=headers)
    bars = Sheet("Parts", parts, {"mean": "money", "p10": "money", "p90": "money"}, headers=headers, charts=(chart,))
    return sheet, bars


def whatif_workbook(result: WhatIf, path: Path, medians: dict[str, pd.DataFrame]) -> None:
    """report.xlsx of a what-if."""
    s = result.summary
    a = s["answer"]
    rows: list[tuple[str, Any, str]] = [
        ("What-if", result.label, "text"),
        ("Base scenario", s["scenario"], "text"),
        ("Description", s["description"], "text"),
        ("Changes (overrides and grants)", "; ".join(s["changes"]) or "none", "text"),
        ("Both sides (--base-set)", "; ".join(f"{k}={v}" for k, v in s["base_overrides"].items()) or "none", "text"),
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
    answer_sheet, parts_sheet = _lines_sheet(s)
    years = pd.DataFrame(
        [{"year": c["year"], "mean": c["mean"], "p10": c["p10"], "p90": c["p90"]} for c in a["cumulative"]]
    )
    per_year = pd.DataFrame(
        [{"year": y["year"], "change": y["mean"], "p10": y["p10"], "p90": y["p90"]} for y in a["years"]]
    )
    years = years.merge(per_year, on="year", how="left", suffixes=("", "_year"))
    years = years[["year", "change", "p10_year", "p90_year", "mean", "p10", "p90"]]
    year_headers = {
        "year": "Year",
        "change": "Change in your profit that year",
        "p10_year": "that year: 10th percentile",
        "p90_year": "that year: 90th percentile",
        "mean": "Running total (mean)",
        "p10": "Running total: 10th percentile",
        "p90": "Running total: 90th percentile",
    }
    money = {c: "money" for c in years.columns if c != "year"}
    sheets = [
        answer_sheet,
        parts_sheet,
        Sheet(
            "Years",
            years,
            {"year": "int", **money},
            headers=year_headers,
            charts=(
                Chart(
                    "Your profit, what-if minus base: running total", "year", ("mean", "p10", "p90"), x_title="years"
                ),
            ),
        ),
    ]
    curve = s.get("curve")
    if curve:
        frame = pd.DataFrame(
            [
                {
                    "level": p["level"],
                    "profit": p["profit_change"]["mean"],
                    "p10": p["profit_change"]["p10"],
                    "p90": p["profit_change"]["p90"],
                    "per_year": p["per_year"]["mean"],
                    "npv": p["npv"]["mean"],
                    "kept": p["kept"],
                    "kept_with_peers": p["kept_with_peers"],
                }
                for p in curve["points"]
            ]
        )
        headers = {
            "level": f"Grant to {curve['target']}",
            "profit": "Your profit change (mean)",
            "p10": "10th percentile",
            "p90": "90th percentile",
            "per_year": "Per year (mean)",
            "npv": f"Now (NPV at {level_text(a['rate'])})",
            "kept": "Share of runs it stays",
            "kept_with_peers": "Share of runs it and its named peers stay",
        }
        kinds = {
            "level": "pct",
            "kept": "pct",
            "kept_with_peers": "pct",
            **dict.fromkeys(("profit", "p10", "p90", "per_year", "npv"), "money"),
        }
        found = (curve.get("found") or {}).get("level")
        sheets.append(
            Sheet(
                "Cost curve",
                frame,
                kinds,
                headers=headers,
                highlight=[found is not None and lv == found for lv in frame["level"]],
                charts=(Chart("The cost curve", "level", ("profit", "p10", "p90"), x_title="grant"),),
            )
        )
    if a.get("named_followers"):
        follow = pd.DataFrame(a["named_followers"])
        sheets.append(
            Sheet(
                "Peers that follow",
                follow,
                {"runs": "int", "of": "int", "median_years": "years"},
                headers={
                    "account": "Named peer",
                    "runs": "Runs it follows",
                    "of": "Runs",
                    "median_years": "After (years, median)",
                },
            )
        )
    sheets += [
        account_sheet("Accounts", result.accounts, shown_columns(), highlight=list(result.accounts["highlight"])),
        _key_sheet(s["metrics"], ("base", "whatif", "difference")),
        series_sheet("Series base (median)", medians["base"], s["periods_per_year"]),
        series_sheet("Series what-if (median)", medians["whatif"], s["periods_per_year"]),
    ]
    write_workbook(
        path,
        title=f"procsim what-if: {result.label}",
        currency=s["currency"],
        summary_rows=rows,
        sheets=sheets,
        summary_charts=[(parts_sheet, parts_sheet.charts[0])],
    )
