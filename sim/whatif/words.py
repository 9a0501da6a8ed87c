"""The answer in words and lines: one sentence and the figures under it, the same in every output.

:func:`sentence` writes the answer; :func:`answer_lines` gives the figures people read
under it (the total, its four parts, per year, the net present value, the account's value),
each with its 80% range. The terminal, report.html, report.xlsx and summary.json all take
them from here, so they print the same figures in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.reports.fmt import money
from sim.whatif.you import PREFIX


def level_text(value: float) -> str:
    """A discount level as people write it: ``6%``, ``4.5%``."""
    return f"{100 * value:.2f}".rstrip("0").rstrip(".") + "%"


def points_text(value: float) -> str:
    """A step in percentage points: ``+2 pp``."""
    return "+" + f"{100 * value:.2f}".rstrip("0").rstrip(".") + " pp"


def _shown(value: Any) -> str:
    return level_text(value) if isinstance(value, float) and 0 < value < 1 else str(value)


def setting_words(path: str, value: Any, suppliers: int) -> str:
    """``--set`` in words that say whose setting it is: yours alone, every supplier's, or a segment's.

    ``suppliers`` is the number of suppliers in the market (you and your rivals).
    """
    rivals = suppliers - 1
    others = f"{rivals} rival{'s' if rivals != 1 else ''}"
    if path.startswith(PREFIX):
        field = path[len(PREFIX) :].replace("_", " ")
        keep = f"; your {others} keep theirs" if rivals else ""
        return f"setting your {field} to {_shown(value)} (you only{keep})"
    parts = path.split(".")
    field = parts[-1].replace("_", " ")
    if parts[0] == "suppliers" and len(parts) >= 4 and parts[1] == "groups":
        return f"setting supplier group {parts[2]}'s {'.'.join(parts[3:]).replace('_', ' ')} to {_shown(value)}"
    if parts[0] == "suppliers":
        who = f"you and your {others}" if rivals else "you, the only supplier"
        return f"setting every supplier's {'.'.join(parts[1:]).replace('_', ' ')} to {_shown(value)} ({who})"
    if parts[0] == "segments" and len(parts) >= 3:
        return f"setting {field} to {_shown(value)} in segment {parts[1]}"
    if parts[0] == "customers":
        return f"setting {field} to {_shown(value)} (every segment)"
    return f"setting {path} to {_shown(value)}"


def grant_words(grant: Mapping[str, Any]) -> str:
    """``granting ACME 6% (now 4%)``, or for a step ``granting ACME +2 pp (4% to 6%)``."""
    level, now, step = grant["level"], grant.get("current"), grant.get("step")
    if step is not None and now is not None:
        return f"granting {grant['to']} {points_text(step)} ({level_text(now)} to {level_text(level)})"
    if now is not None:
        return f"granting {grant['to']} {level_text(level)} (now {level_text(now)})"
    return f"granting {grant['to']} {level_text(level)}"


def lead_words(grants: Sequence[Mapping[str, Any]], settings: Mapping[str, Any], suppliers: int) -> str:
    """What the what-if does, as the sentence's subject: ``Granting ACME 6% (now 4%) and setting ...``."""
    actions = [grant_words(g) for g in grants]
    actions += [setting_words(k, v, suppliers) for k, v in settings.items() if k != "accounts_file"]
    lead = " and ".join(actions) or "the what-if"
    return lead[:1].upper() + lead[1:]


def _span(low: float, high: float, currency: str, positive: str, negative: str) -> str:
    """An 80% range in the sentence's direction: 'EUR 2.4M-3.9M', or 'from a EUR 0.2M gain to a EUR 0.9M cost'."""
    if low >= 0:
        return f"{money(low, currency)}-{money(high, currency).removeprefix(currency + ' ')}"
    if high <= 0:
        return f"{money(-high, currency)}-{money(-low, currency).removeprefix(currency + ' ')} {negative}"
    return f"from a {money(-low, currency)} {negative} to a {money(high, currency)} {positive}"


def _years(value: float) -> str:
    return f"{value:g} year{'s' if value != 1 else ''}"


def cost_clause(lead: str, answer: Mapping[str, Any], currency: str) -> str:
    """``<lead> costs you EUR 1.5M profit over 10 years (80% range ...), EUR 150.0k a year, EUR 1.1M at 8% NPV``."""
    p = answer["profit_change"]
    years = _years(answer["horizon_years"])
    if money(p["mean"], currency) == money(0.0, currency) and p["p10"] == p["p90"]:
        return f"{lead} leaves your profit over {years} unchanged (in every run)"
    if p["mean"] < 0:
        clause = f"{lead} costs you {money(-p['mean'], currency)} profit over {years}"
        spread = _span(-p["p90"], -p["p10"], currency, "cost", "gain")
        per_year, npv = -answer["per_year"]["mean"], -answer["npv"]["mean"]
    else:
        clause = f"{lead} earns you {money(p['mean'], currency)} more profit over {years}"
        spread = _span(p["p10"], p["p90"], currency, "gain", "cost")
        per_year, npv = answer["per_year"]["mean"], answer["npv"]["mean"]
    if answer["replicates"] > 1:
        clause += f" (80% range {spread})"
    rate = level_text(answer["rate"])
    return f"{clause}, {money(per_year, currency)} a year, {money(npv, currency)} now (NPV at {rate} a year)"


def sentence(answer: Mapping[str, Any], lead: str, currency: str) -> str:
    """The answer in one sentence (without the final full stop)."""
    parts = [cost_clause(lead, answer, currency)]
    if answer.get("target") is not None:
        target, runs = answer["target"], answer["replicates"]
        if answer.get("target_kind") == "account":
            stays = round(answer["target_kept"] * runs)
            before = round(answer["target_kept_base"] * runs)
            parts.append(
                f"{target} stays with you in {stays} of {runs} run{'s' if runs != 1 else ''} ({before} without the change)"
            )
        peers, asked = round(answer["peers"]), min(round(answer["peers_demanding_parity"]), round(answer["peers"]))
        whose = "its" if answer.get("target_kind") == "account" else "the segment's"
        within = f"within {_years(answer['parity_window_years'])}"
        parts.append(f"{asked} of {whose} {peers} peers demand parity {within}")
        change = answer["target_value_change"]["mean"]
        verb = "rises" if change >= 0 else "falls"
        owner = target + ("'" if target.endswith("s") else "'s")
        lead_channel = next((c for c in answer.get("target_channels") or [] if c["dominant"]), None)
        through = f", mostly through {lead_channel['label'].split(' (')[0]}" if lead_channel else ""
        parts.append(f"{owner} value {verb} {money(abs(change), currency)}{through}")
    else:
        joint = answer["joint_value_change"]
        parts.append(f"joint value {'+' if joint >= 0 else ''}{money(joint, currency)}")
    cap = answer["capability_index_change"]
    parts.append(f"capability index {cap:+.3f}" if abs(cap) < 0.005 else f"capability index {cap:+.2f}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- the lines under the sentence


@dataclass(frozen=True)
class Line:
    """One figure under the answer: its words, mean and 80% range (None where a range makes no sense)."""

    key: str
    label: str
    mean: float
    p10: float | None
    p90: float | None
    runs: int | None = None
    unchanged: int | None = None  # runs without any change

    def value_text(self, currency: str) -> str:
        return signed(self.mean, currency)

    def range_text(self, currency: str) -> str:
        """'+EUR 1.2M to +EUR 3.4M'; a change that only some runs show, whose 80% range is nothing at all while its
        mean is not: 'no change in 19 of 20 runs'."""
        if self.p10 is None or self.p90 is None:
            return ""
        zero = money(0.0, currency)
        if (
            self.runs
            and self.unchanged
            and signed(self.p10, currency) == zero == signed(self.p90, currency)
            and signed(self.mean, currency) != zero
        ):
            return f"no change in {self.unchanged} of {self.runs} runs"
        return f"{signed(self.p10, currency)} to {signed(self.p90, currency)}"


def _line(key: str, label: str, figure: Mapping[str, Any]) -> Line:
    return Line(key, label, figure["mean"], figure["p10"], figure["p90"], figure.get("runs"), figure.get("unchanged"))


def signed(value: float, currency: str) -> str:
    """A change of money: ``+EUR 1.2M``, ``-EUR 350.0k`` (no sign when it rounds to zero)."""
    text = money(value, currency)
    return text if text.startswith("-") or text == money(0.0, currency) else "+" + text


def answer_lines(answer: Mapping[str, Any]) -> list[Line]:
    """The figures under the answer, in the order every output shows them."""
    p = answer["profit_change"]
    lines = [_line("total", "your profit, change over the horizon", p)]
    for part in answer["parts"]:
        count = part.get("accounts")
        label = part["label"] + (f" ({count:.1f} accounts, mean)" if count is not None else "")
        lines.append(_line(part["key"], f"  of which: {label}", part))
    lines.append(_line("per_year", "your profit, change per year (average)", answer["per_year"]))
    lines.append(_line("npv", f"net present value at {level_text(answer['rate'])} a year", answer["npv"]))
    if answer.get("target") is not None:
        v = answer["target_value_change"]
        lines.append(_line("target_value", f"{answer['target']}: value to it, change", v))
        for c in answer.get("target_channels") or []:
            if abs(c["mean"]) >= 0.0005 * max(abs(v["mean"]), 1.0) or c["dominant"]:
                lines.append(_line(f"channel_{c['key']}", f"  through: {c['label']}", c))
    return lines


def lines_data(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lines as summary.json stores them (labels and numbers)."""
    return [
        {"key": ln.key, "label": ln.label.strip(), "mean": ln.mean, "p10": ln.p10, "p90": ln.p90}
        for ln in answer_lines(answer)
    ]


def terminal_text(summary: Mapping[str, Any]) -> str:
    """What ``procsim whatif`` prints: the sentence, then the lines and, for a curve, its table."""
    answer, currency = summary["answer"], summary["currency"]
    curve = summary.get("curve")
    out = [curve["text"] + "."] if curve else []
    out.append(answer["text"] + ".")
    runs = answer["replicates"]
    out.append(f"Where it comes from (your profit, what-if minus base; mean and 80% range over {runs} runs):")
    lines = answer_lines(answer)
    width = max(len(ln.label) for ln in lines)
    for ln in lines:
        rng = ln.range_text(currency)
        out.append(
            f"  {ln.label.ljust(width)}  {ln.value_text(currency):>13}  {('(' + rng + ')') if rng else ''}".rstrip()
        )
    follow = answer.get("named_followers") or []
    if follow:
        out.append("Named peers that follow (demand parity), in how many runs and after how long:")
        for f in follow:
            when = f" after {f['median_years']:.1f} years (median)" if f["median_years"] is not None else ""
            out.append(f"  {f['account']}: {f['runs']} of {f['of']} runs{when}")
    if curve:
        out.append(curve_heading(curve))
        out.extend("  " + row for row in curve_rows_text(curve, currency))
    return "\n".join(out)


def curve_heading(curve: Mapping[str, Any]) -> str:
    return f"The cost curve of {curve['target']} (your profit change over the horizon, mean and 80% range; kept: runs it stays):"


def curve_rows_text(curve: Mapping[str, Any], currency: str) -> list[str]:
    """One line per level of a cost curve (the same cells as the HTML and XLSX tables)."""
    rows = []
    for point in curve["points"]:
        cells = curve_cells(point, currency)
        rows.append(
            f"{cells['level']:>6}  {cells['profit']:>13}  ({cells['range']})  {cells['per_year']:>12} a year  "
            f"kept {cells['kept']}"
        )
    return rows


def curve_cells(point: Mapping[str, Any], currency: str) -> dict[str, str]:
    """A curve point's cells, as every output shows them."""
    p = point["profit_change"]
    return {
        "level": level_text(point["level"]),
        "profit": signed(p["mean"], currency),
        "range": f"{signed(p['p10'], currency)} to {signed(p['p90'], currency)}",
        "per_year": signed(point["per_year"]["mean"], currency),
        "npv": signed(point["npv"]["mean"], currency),
        "kept": f"{point['kept'] * 100:.0f}%",
        "kept_with_peers": f"{point['kept_with_peers'] * 100:.0f}%",
    }
