"""A what-if's files, published at once: summary.json, report.html, report.xlsx, accounts.csv, series, charts.

Everything shown is read from the one summary (``answer``, ``curve``, ``metrics``) and the
one per-account table, so the terminal, the HTML report and the workbook agree. The
charts are SVG (``plots/*.svg``, for slides as they are), the same files the report embeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.reports.cells import spreadsheet_frame
from sim.reports.files import atomic_write_text, manifest, staged_directory, to_json, write_frame_csv
from sim.whatif.book import whatif_workbook
from sim.whatif.charts import whatif_charts
from sim.whatif.page import whatif_report
from sim.whatif.table import shown_columns
from sim.whatif.words import answer_lines

if TYPE_CHECKING:
    from sim.whatif.answer import WhatIf


def medians(result: WhatIf) -> dict[str, pd.DataFrame]:
    """Each side's median series over the seeds."""
    out = {}
    for side, frames in result.timeseries.items():
        out[side] = frames[0] if len(frames) == 1 else pd.concat(frames).groupby("period").median().reset_index()
    return out


def charts_of(result: WhatIf, middle: dict[str, pd.DataFrame] | None = None) -> dict[str, str]:
    """The what-if's charts as SVG text, by file name."""
    return whatif_charts(result.summary, answer_lines(result.summary["answer"]), middle or medians(result))


def write_whatif(result: WhatIf, out: Path, command: Sequence[str] | None) -> Path:
    """All outputs of a what-if, published atomically at ``out``."""
    base, variant = result.base, result.variant
    middle = medians(result)
    charts = charts_of(result, middle)
    with staged_directory(out) as tmp:
        atomic_write_text(tmp / "summary.json", to_json(result.summary))
        write_frame_csv(spreadsheet_frame(result.accounts[list(shown_columns())]), tmp / "accounts.csv")
        for side, frames in result.timeseries.items():
            write_frame_csv(
                pd.concat([f.assign(seed=s) for f, s in zip(frames, result.seeds, strict=True)]),
                tmp / f"timeseries_{side}.csv",
            )
        atomic_write_text(tmp / "scenario_base.yaml", base.to_yaml())
        atomic_write_text(tmp / "scenario.yaml", variant.to_yaml())
        (tmp / "plots").mkdir()
        for name, svg in charts.items():
            atomic_write_text(tmp / "plots" / f"{name}.svg", svg)
        atomic_write_text(tmp / "report.html", whatif_report(result, charts))
        whatif_workbook(result, tmp / "report.xlsx", middle)
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
