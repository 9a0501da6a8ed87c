"""A run's folder, written at once: summary, series, agents, charts, report.html and report.xlsx."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.reports import pages, plots, workbook
from sim.reports.files import atomic_write_text, manifest, staged_directory, to_json, write_frame_csv, write_parquet

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario
    from sim.runs.runner import ReplicateResult, RunResult


def save_figure(fig: Any, path: Path, *, svg: bool = True) -> None:
    """The figure as PNG at ``path`` and (for slides, scalable) as SVG beside it; same figure, same bytes."""
    import matplotlib

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    if svg:
        with matplotlib.rc_context({"svg.hashsalt": "procsim", "svg.fonttype": "path"}):
            fig.savefig(path.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
    plots.close(fig)


def save_charts(folder: Path, title: str, scenario: Scenario, **series: Any) -> dict[str, Path]:
    """Every chart panel and the overview under ``folder/plots`` (PNG and SVG); their PNG paths by name.

    ``series`` says what is drawn, as :func:`sim.reports.plots.panel_figure` takes it: ``single=`` a
    run's series (with ``marks=``), ``runs=`` replicates, or ``pair=`` two labelled series.
    """
    common = {
        "currency": scenario.currency,
        "band": tuple(scenario.market.fair_band),
        "per_year": scenario.periods_per_year,
        **series,
    }
    figures = {}
    for panel in plots.PANELS:
        figures[panel.name] = folder / "plots" / f"{panel.name}.png"
        save_figure(plots.panel_figure(panel, **common), figures[panel.name])
    figures["overview"] = folder / "plots" / "overview.png"
    save_figure(plots.overview_figure(title, **common), figures["overview"])
    return figures


def _marks(summary: dict[str, Any]) -> list[tuple[int, str]]:
    m = summary["metrics"]
    marks = []
    if m.get("spiral_onset") is not None:
        marks.append((m["spiral_onset"], "imbalance"))
    if m.get("time_to_collapse") is not None:
        marks.append((m["time_to_collapse"], "collapse"))
    return marks


def write_run(result: RunResult, out: Path, *, command: Sequence[str] | None = None) -> Path:
    """All outputs of one run, published atomically at ``out``."""
    scenario, summary = result.scenario, result.summary
    with staged_directory(out) as tmp:
        atomic_write_text(tmp / "summary.json", to_json(summary))
        write_frame_csv(result.timeseries, tmp / "timeseries.csv")
        write_parquet(result.agents, tmp / "agents.parquet")
        atomic_write_text(tmp / "scenario.yaml", scenario.to_yaml())
        figures = save_charts(
            tmp, f"{scenario.name}: {summary['outcome']}", scenario, single=result.timeseries, marks=_marks(summary)
        )
        atomic_write_text(tmp / "report.html", pages.run_report(result, figures))
        workbook.run_workbook(result, tmp / "report.xlsx")
        atomic_write_text(
            tmp / "manifest.json", to_json(manifest(scenario, [result.seed], result.wall_seconds, command))
        )
    return out


def write_replicates(result: ReplicateResult, out: Path, *, command: Sequence[str] | None = None) -> Path:
    """Outputs of a replicated run: aggregate summary, median series, per-run table, fan charts."""
    scenario = result.scenario
    frames = [r.timeseries for r in result.runs]
    with staged_directory(out) as tmp:
        atomic_write_text(tmp / "summary.json", to_json(result.summary))
        median = pd.concat(frames).groupby("period", sort=True).median().reset_index()
        write_frame_csv(median, tmp / "timeseries.csv")
        write_frame_csv(result.timeseries, tmp / "replicates.csv")
        runs = pd.DataFrame(
            [{"seed": r.seed, "outcome": r.summary["outcome"], **r.summary["metrics"]} for r in result.runs]
        )
        write_frame_csv(runs, tmp / "runs.csv")
        agents = pd.concat([r.agents.assign(seed=r.seed) for r in result.runs], ignore_index=True)
        write_parquet(agents, tmp / "agents.parquet")
        atomic_write_text(tmp / "scenario.yaml", scenario.to_yaml())
        figures = save_charts(tmp, f"{scenario.name}: {len(frames)} replicates", scenario, runs=frames)
        figures["outcomes"] = tmp / "plots" / "outcomes.png"
        save_figure(plots.outcome_counts_figure(result.summary["outcomes"]), figures["outcomes"])
        atomic_write_text(tmp / "report.html", pages.replicate_report(result, figures))
        workbook.replicates_workbook(result, tmp / "report.xlsx", median)
        atomic_write_text(
            tmp / "manifest.json", to_json(manifest(scenario, result.seeds, result.wall_seconds, command))
        )
    return out
