"""results/index.html: every run under a results folder, with its scenario, changes, verdict and key figures.

Rebuilt (atomically) after each run from the runs' own summary.json and manifest.json,
so it never disagrees with them; a folder that cannot be read is listed as such.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from sim.reports.files import atomic_write_text
from sim.reports.fmt import count_words, money
from sim.reports.pages import CSP, override_text

MAX_DEPTH = 4
MAX_RUNS = 5000
COMPARED = 6  # the newest what-ifs shown side by side


def _runs(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and depth < MAX_DEPTH)
        if "summary.json" in files and "report.html" in files:
            found.append(Path(folder))
            dirs[:] = []
        if len(found) >= MAX_RUNS:
            break
    return found


def _row(root: Path, folder: Path) -> dict[str, Any]:
    """One run's line; a summary that cannot be read, or does not have what procsim writes, is listed as unreadable."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        made = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("created_utc", "")
        row = _described(folder.relative_to(root), summary)
        row["when"] = str(made)
        return {key: str(value) for key, value in row.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {"when": "", "link": folder.relative_to(root).as_posix(), "kind": "unreadable"}


def _described(folder: Path, summary: dict[str, Any]) -> dict[str, Any]:
    cur = summary.get("currency", "")
    row: dict[str, Any] = {"link": (folder / "report.html").as_posix()}
    if summary.get("kind") == "whatif":
        both = [f"--base-set {k}={v}" for k, v in summary.get("base_overrides", {}).items() if k != "accounts_file"]
        both += [
            f"--accounts {Path(str(v)).name}"
            for k, v in summary.get("base_overrides", {}).items()
            if k == "accounts_file"
        ]
        row |= {
            "kind": "what-if",
            "scenario": summary.get("scenario", ""),
            "changes": "; ".join([*summary.get("changes", []), *both]),
            "verdict": f"base {summary['outcome']['base']}, what-if {summary['outcome']['whatif']}",
            "figures": summary["answer"]["text"],
            "answer": summary["answer"],
            "currency": cur,
        }
    elif "a" in summary and "b" in summary:
        row |= {
            "kind": "compare",
            "scenario": f"{summary['a']} vs {summary['b']}",
            "changes": "; ".join(f"--set {k}={v}" for k, v in summary.get("overrides", {}).items()),
            "verdict": " / ".join(f"{n}: {count_words(c)}" for n, c in summary["outcomes"].items()),
            "figures": _figures(summary["metrics"], cur, lambda m: m.get("difference"), "difference "),
        }
    elif "replicates" in summary:
        row |= {
            "kind": f"{summary['replicates']} replicates",
            "scenario": summary.get("scenario", ""),
            "changes": _changes(summary),
            "verdict": f"{summary['outcome']} ({count_words(summary.get('outcomes', {}))})",
            "figures": _figures(summary["metrics"], cur, lambda m: m.get("mean"), "mean "),
        }
    else:
        row |= {
            "kind": "run",
            "scenario": summary.get("scenario", ""),
            "changes": _changes(summary),
            "verdict": summary.get("outcome", ""),
            "figures": _figures(summary["metrics"], cur, lambda m: m, ""),
        }
    return row


def _changes(summary: dict[str, Any]) -> str:

    sets = [override_text(k, v) for k, v in summary.get("overrides", {}).items()]
    grants = [
        f"grant {i['to']} {100 * i['grant']:g}% from period {i['from_period']}"
        for i in summary.get("interventions", [])
    ]
    return "; ".join(sets + grants)


def _figures(metrics: dict[str, Any], currency: str, pick: Any, prefix: str) -> str:
    cap = pick(metrics.get("capability_index_final", {}))
    profit = pick(metrics.get("supplier_profit_total", {}))
    parts = []
    if isinstance(cap, int | float):
        parts.append(
            f"{prefix}capability index {cap:+.2f}" if prefix == "difference " else f"capability index {cap:.2f}"
        )
    if isinstance(profit, int | float):
        parts.append(f"{prefix}supplier profit {money(profit, currency)}")
    return "; ".join(parts)


def rebuild_index(root: Path) -> Path:
    """Write ``root/index.html`` listing every run below ``root``, newest first."""
    rows = sorted((_row(root, f) for f in _runs(root)), key=lambda r: r["when"], reverse=True)
    cells = []
    for r in rows:
        if r["kind"] == "unreadable":
            cells.append(f"<tr><td></td><td colspan='5'>{html.escape(r['link'])}: unreadable summary</td></tr>")
            continue
        cells.append(
            "<tr>"
            f"<td>{html.escape(r['when'].replace('T', ' ').removesuffix('+00:00'))}</td>"
            f"<td>{html.escape(r['kind'])}</td>"
            f"<td><a href='{html.escape(r['link'], quote=True)}'>{html.escape(r['scenario'])}</a></td>"
            f"<td>{html.escape(r['changes']) or '&ndash;'}</td>"
            f"<td>{html.escape(r['verdict'])}</td>"
            f"<td>{html.escape(r['figures'])}</td>"
            "</tr>"
        )
    answers = _answers_side_by_side([r for r in rows if r.get("answer")][:COMPARED])
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\"><title>procsim runs</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2937}table{border-collapse:collapse}"
        "td,th{padding:.3rem .7rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}"
        "</style></head><body><h1>procsim runs</h1>"
        f"<p>{len(rows)} run(s) in this folder, newest first; each links to its report.</p>"
        "<table><tr><th>when (UTC)</th><th>kind</th><th>scenario</th><th>changes</th><th>verdict</th>"
        f"<th>key figures</th></tr>{''.join(cells)}</table>{answers}</body></html>\n"
    )
    path = root / "index.html"
    atomic_write_text(path, page)
    return path


def index_root(out: Path) -> Path | None:
    """The ``results`` folder a run was written under (the index lives there), or None."""
    for parent in out.resolve().parents:
        if parent.name == "results":
            return parent
    return None


def _answers_side_by_side(rows: list[dict[str, Any]]) -> str:
    """The newest what-if answers in columns, figure by figure (the same lines every what-if prints)."""
    if len(rows) < 2:
        return ""
    labels: list[str] = []
    for r in rows:
        labels += [line["label"] for line in r["answer"].get("lines", []) if line["label"] not in labels]
    head = "".join(
        f"<th><a href='{html.escape(r['link'], quote=True)}'>{html.escape(r['changes'] or r['scenario'])}</a></th>"
        for r in rows
    )
    body = []
    for label in labels:
        cells = []
        for r in rows:
            line = next((x for x in r["answer"].get("lines", []) if x["label"] == label), None)
            cells.append(
                f"<td class='num'>{'' if line is None else html.escape(_signed(line['mean'], r['currency']))}</td>"
            )
        body.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    return (
        "<h2>What-if answers side by side</h2><p>The newest what-ifs, figure by figure (your profit, what-if "
        f"minus base; means over the seeds).</p><table><tr><th></th>{head}</tr>{''.join(body)}</table>"
    )


def _signed(value: float, currency: str) -> str:
    text = money(value, currency)
    return text if text.startswith("-") or text == money(0.0, currency) else "+" + text
