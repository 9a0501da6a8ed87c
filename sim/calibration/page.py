"""calibration.html: what was fitted, how well, and what the data could not pin down, in plain words.

A page of the project's reports (``sim.reports.pages.page``): self-contained, the figures
embedded, every text from a file or the command line escaped, no script allowed by its
Content-Security-Policy. Every figure on it comes from ``results`` (as the terminal's).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.inference import Fitted
from sim.reports.pages import page
from sim.version import __version__


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cell(text: str, num: bool = True) -> str:
    return f"<td{' class=num' if num else ''}>{html.escape(text)}</td>"


def calibration_page(
    fitted: Fitted, table: pd.DataFrame, words: dict[str, str], figures: dict[str, Path], out: Path
) -> str:
    """The page's HTML (``figures``: the fit and pairs PNGs to embed; ``out``: the folder, for the commands)."""
    cal = fitted.calibration
    head = "<tr><th>parameter</th><th>prior</th><th>median</th><th>50% interval</th><th>90% interval</th>"
    head += "<th>prior range its 90% interval covers</th><th>pinned down</th></tr>"
    rows = "".join(
        "<tr>"
        + _cell(row.parameter, num=False)
        + _cell(fit.span(row.prior_low, row.prior_high))
        + _cell(fit.format(row.median))
        + _cell(fit.span(row.p25, row.p75))
        + _cell(fit.span(row.p05, row.p95))
        + _cell(f"{row.prior_coverage:.0%}")
        + _cell("yes" if row.pinned_down else "no: about as wide as the prior", num=False)
        + "</tr>"
        for fit, row in zip(cal.fits, table.itertuples(), strict=True)
    )
    generations = "".join(
        f"<tr><td class=num>{g['population']}</td><td class=num>{g['epsilon']:.3g}</td>"
        f"<td class=num>{g['evaluated']:,}</td><td class=num>{g['accepted']:,}</td>"
        f"<td class=num>{g['accepted'] / g['evaluated']:.0%}</td></tr>"
        for g in fitted.generations
    )
    folder = html.escape(str(out))
    body = (
        f"<h1>Calibration: {html.escape(cal.scenario.name)}</h1>"
        f"<p class='sub'>observed: {html.escape(cal.observed.source)} &middot; paths: "
        f"{html.escape(', '.join(cal.paths))}</p>"
        f"<div class='story'>{''.join(f'<p>{html.escape(words[k])}</p>' for k in ('what', 'how', 'left'))}</div>"
        f"<h2>What was fitted</h2><div class='wide'><table>{head}{rows}</table></div>"
        f"<p>{html.escape(words['values'])} The median of each parameter is in <code>calibrated.yaml</code>; the "
        "weighted posterior samples are in <code>posterior.parquet</code>.</p>"
        f"<h2>How well it fits</h2>{_img(figures['fit'], 'observed against the calibrated model')}"
        f"<h2>The posterior, pair by pair</h2>{_img(figures['pairs'], 'posterior pairs')}"
        "<h2>Use it</h2><ul>"
        f"<li><code>procsim run {folder}/calibrated.yaml</code>: the scenario at the posterior medians</li>"
        f"<li><code>procsim whatif {html.escape(cal.scenario.name)} --posterior {folder} --grant ...</code> (and "
        "<code>run</code>, <code>compare</code>): each replicate draws its parameters from the posterior, so the "
        "ranges include what the data left uncertain</li></ul>"
        "<h2>How it was computed</h2>"
        f"<p>ABC-SMC (pyabc) with uniform priors, {cal.population} particles per population, {cal.replicates} "
        f"seed(s) per parameter set, an adaptive weighted Euclidean distance (docs/experiments.md, "
        f"'Calibration'); {fitted.runs:,} runs, {fitted.reused:,} of them taken from an earlier session.</p>"
        "<table><tr><th>population</th><th>threshold</th><th>proposals</th><th>accepted</th>"
        f"<th>acceptance</th></tr>{generations}</table>"
    )
    return page(
        f"procsim calibration: {cal.scenario.name}",
        body,
        f"procsim {__version__} &middot; seed {cal.seed} &middot; model and assumptions: docs/model.md",
    )


def summary_json(fitted: Fitted, table: pd.DataFrame, quality: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    """summary.json: the same figures as the page, for programs."""
    cal = fitted.calibration
    return {
        "kind": "calibration",
        "scenario": cal.scenario.name,
        "observed": cal.observed.source,
        "series": list(cal.observed.series),
        "periods": cal.observed.periods.tolist(),
        "fits": [{"path": f.path, "low": f.low, "high": f.high, "percent": f.percent} for f in cal.fits],
        "parameters": table.to_dict(orient="records"),
        "fit": quality,
        "sentences": words,
        "population": cal.population,
        "replicates": cal.replicates,
        "budget": cal.budget,
        "runs": fitted.runs,
        "reused_runs": fitted.reused,
        "generations": fitted.generations,
        "stopped": fitted.stopped,
        "seed": cal.seed,
    }
