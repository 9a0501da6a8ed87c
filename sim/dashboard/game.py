"""The negotiation game: teams play procurement and the supplier, one contract cycle per round.

Each round the procurement team enters the discount it demands and the supplier team
its answer (grant some points of discount, trade value instead, or hold the price); the
market then runs one contract cycle with those decisions (the ``played`` strategy and
the model's demand override). The debrief compares every period with a balanced policy
on the same market and seed: the supplier holds its price and explains the value it
funds, procurement's demand follows the scenario. It reveals the hidden variables (each
capability, investment against what the capabilities need) and exports as PNG and CSV.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..model import ProcurementModel
from ..outputs import atomic_path, atomic_write_text
from ..report import money
from ..runner import no_discount
from ..scenario import Scenario, list_scenarios, load_scenario
from .charts import Line, line_chart

TABLE_CSS = """
.round-log, .totals {border-collapse: collapse; margin: 8px 0}
.round-log th, .round-log td, .totals th, .totals td {padding: 3px 12px; text-align: right}
.round-log tr:nth-child(even), .totals tr:nth-child(even) {background: #f3f4f6}
"""
ANSWERS = {"discount": "Grant discount", "value_trade": "Trade value", "hold": "Hold price"}
LOG_COLUMNS = [
    "round",
    "first_period",
    "demand",
    "answer",
    "points",
    "discount_after",
    "gift_value_after",
    "supplier_margin",
    "capability_index",
    "customer_value_round",
    "supplier_profit_round",
    "balanced_customer_value_round",
    "balanced_supplier_profit_round",
]


def game_scenario(name: str, rounds: int) -> Scenario:
    """The scenario a game plays: one played supplier, all customers renewing together each round."""
    base = load_scenario(name)
    return load_scenario(
        name,
        {
            "suppliers.count": 1,
            "suppliers.strategy": "played",
            "market.stagger_contracts": False,
            "periods": rounds * base.market.contract_cycle,
        },
    )


@dataclass(eq=False)
class NegotiationGame:
    """A game in progress: the played market, the balanced one, and the round log."""

    scenario_name: str
    rounds: int
    seed: int
    model: ProcurementModel
    balanced: pd.DataFrame
    log: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls, scenario_name: str, rounds: int = 6, seed: int = 1) -> NegotiationGame:
        """A new game of ``rounds`` contract cycles; the balanced policy is run at once on the same seed."""
        if not 1 <= rounds <= 40:
            raise ValueError(f"rounds must be between 1 and 40, got {rounds}")
        scenario = game_scenario(scenario_name, rounds)
        balanced = no_discount(scenario)
        reference = ProcurementModel(balanced, rng=seed, record_agents_every=0).run().recorder.timeseries()
        return cls(scenario_name, rounds, seed, ProcurementModel(scenario, rng=seed, record_agents_every=0), reference)

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return len(self.log)

    @property
    def finished(self) -> bool:
        """Whether every round has been played (the debrief is shown)."""
        return self.round >= self.rounds

    @property
    def cycle(self) -> int:
        """Periods per round: the scenario's contract cycle."""
        return self.model.cycle

    @property
    def series(self) -> pd.DataFrame:
        """The played market's series so far (empty before the first round)."""
        return self.model.recorder.timeseries() if self.model.period else pd.DataFrame()

    @property
    def current_discount(self) -> float:
        """The mean discount in force now, shown to both teams before they decide."""
        return float(self.series["discount_mean"].iloc[-1]) if self.model.period else 0.0

    def play_round(self, demand: float, answer: str, points: float = 0.0) -> dict:
        """Apply both teams' decisions and run one contract cycle; returns the round's log row."""
        if self.finished:
            raise ValueError("the game is over; start a new one")
        if not 0.0 <= demand <= 0.6:
            raise ValueError(f"the demanded discount must be between 0% and 60%, got {demand:.0%}")
        self.model.strategies["played"].decide(answer, points)
        self.model.demand_override = float(demand)
        first = self.model.period
        for _ in range(self.cycle):
            if self.model.running:
                self.model.step()
        ts = self.series
        played = ts[ts["period"] >= first]
        base = self.balanced[(self.balanced["period"] >= first) & (self.balanced["period"] <= ts["period"].iloc[-1])]
        last = ts.iloc[-1]
        row = {
            "round": self.round + 1,
            "first_period": first,
            "demand": demand,
            "answer": answer,
            "points": 0.0 if answer == "hold" else points,
            "discount_after": float(last["discount_mean"]),
            "gift_value_after": float(last["gift_value_mean"]),
            "supplier_margin": float(last["supplier_margin"]),
            "capability_index": float(last["capability_index"]),
            "customer_value_round": float(played["customer_value"].sum()),
            "supplier_profit_round": float(played["supplier_profit"].sum()),
            "balanced_customer_value_round": float(base["customer_value"].sum()),
            "balanced_supplier_profit_round": float(base["supplier_profit"].sum()),
        }
        self.log.append(row)
        return row

    def round_log(self) -> pd.DataFrame:
        """One row per round played: both decisions and what they gave each side (the CSV export)."""
        return pd.DataFrame(self.log, columns=LOG_COLUMNS)

    def totals(self) -> pd.DataFrame:
        """What the game gave each side against the balanced policy, over the periods played."""
        ts = self.series
        base = self.balanced[self.balanced["period"] <= ts["period"].iloc[-1]] if len(ts) else self.balanced.iloc[:0]
        rows = {"customer value": "customer_value", "supplier profit": "supplier_profit", "joint value": "joint_value"}
        out = pd.DataFrame(
            {
                "played": [float(ts[c].sum()) if len(ts) else 0.0 for c in rows.values()],
                "balanced policy": [float(base[c].sum()) for c in rows.values()],
            },
            index=list(rows),
        )
        out["difference"] = out["played"] - out["balanced policy"]
        return out

    def debrief_figure(self) -> Figure:
        """Played (solid) against the balanced policy (dashed), hidden variables included."""
        ts = self.series
        base = self.balanced[self.balanced["period"] <= (ts["period"].iloc[-1] if len(ts) else -1)]
        currency = self.model.config.currency
        fig = Figure(figsize=(14, 7.5), dpi=100, layout="constrained")
        axes = fig.subplots(2, 3)
        panels = [
            ("Discount granted", [("discount_mean", "#d62728")], "share"),
            (
                "Hidden: each capability (1 = start)",
                [
                    ("quality", "#1f77b4"),
                    ("innovation", "#9467bd"),
                    ("support", "#2ca02c"),
                    ("sales_coverage", "#ff7f0e"),
                ],
                "",
            ),
            (
                "Hidden: investment vs what capabilities need",
                [("investment", "#8c564b"), ("investment_desired", "#bbbbbb")],
                currency,
            ),
            ("Supplier margin", [("supplier_margin", "#8c564b")], "share"),
            (f"Customer value per period ({currency})", [("customer_value", "#2ca02c")], currency),
            (f"Joint value per period ({currency})", [("joint_value", "#111111")], currency),
        ]
        for ax, (title, columns, unit) in zip(axes.flat, panels, strict=True):
            for column, color in columns:
                ax.plot(ts["period"], ts[column], color=color, lw=2, label=f"{column.replace('_', ' ')} (played)")
                ax.plot(
                    base["period"],
                    base[column],
                    color=color,
                    lw=1.4,
                    ls="--",
                    alpha=0.8,
                    label=f"{column.replace('_', ' ')} (balanced)",
                )
            for r in range(1, self.round):
                ax.axvline(r * self.cycle - 0.5, color="#e5e7eb", lw=0.8, zorder=0)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("period")
            if unit == "share":
                ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
            elif unit:
                ax.yaxis.set_major_formatter(lambda v, _p: money(v, currency))
            ax.legend(fontsize=7)
        fig.suptitle(
            f"Debrief: {self.scenario_name}, {self.round} round(s), seed {self.seed} "
            "(solid: your game; dashed: balanced policy, same market and seed)",
            fontsize=12,
        )
        return fig

    def png(self) -> bytes:
        """The debrief figure as PNG bytes (the PNG export)."""
        buffer = io.BytesIO()
        fig = self.debrief_figure()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        fig.clear()
        return buffer.getvalue()

    def csv(self) -> str:
        """The round log as CSV text (the CSV export)."""
        return self.round_log().to_csv(index=False, lineterminator="\n", float_format="%.6g")

    def export(self, folder: str | Path) -> tuple[Path, Path]:
        """Write debrief.png and rounds.csv into ``folder`` (each by atomic rename)."""
        folder = Path(folder)
        png, csv = folder / "debrief.png", folder / "rounds.csv"
        with atomic_path(png) as tmp:
            tmp.write_bytes(self.png())
        atomic_write_text(csv, self.csv())
        return png, csv


# ---------------------------------------------------------------------------- the page


@solara.component
def Game(scenario: str = "procurement_squeeze", rounds: int = 6):
    """The game tab, starting with ``scenario`` and ``rounds`` (the facilitator can change both)."""
    scenario_name = solara.use_reactive(scenario)
    rounds = solara.use_reactive(rounds)
    seed = solara.use_reactive(1)
    current = solara.use_reactive(solara.use_memo(lambda: NegotiationGame.start(scenario, rounds.value, 1), []))
    game: NegotiationGame = current.value
    demand = solara.use_reactive(0.10)
    answer = solara.use_reactive("discount")
    points = solara.use_reactive(0.02)
    error = solara.use_reactive("")
    version = solara.use_reactive(0)

    def new_game() -> None:
        try:
            current.set(NegotiationGame.start(scenario_name.value, int(rounds.value), int(seed.value)))
            error.set("")
        except ValueError as exc:
            error.set(str(exc))

    def play() -> None:
        try:
            game.play_round(demand.value, answer.value, points.value)
            error.set("")
        except ValueError as exc:
            error.set(str(exc))
        version.set(version.value + 1)

    version.value  # noqa: B018 - reading it subscribes this component to every round
    currency = game.model.config.currency
    solara.Style(TABLE_CSS)
    with solara.Card("Facilitator"):
        with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(label="Scenario", values=[n for n, _, _ in list_scenarios()], value=scenario_name)
            solara.InputInt("Rounds (contract cycles)", value=rounds, continuous_update=True)
            solara.InputInt("Seed", value=seed, continuous_update=True)
            solara.Button("Start new game", color="primary", on_click=new_game, classes=["new-game"])
    if error.value:
        solara.Error(error.value, classes=["game-error"])
    if not game.finished:
        with solara.Card(f"Round {game.round + 1} of {game.rounds}", classes=["round-card"]):
            solara.Text(f"Discount in force: {game.current_discount:.1%}", classes=["discount-in-force"])
            with solara.Columns([1, 1]):
                with solara.Column():
                    solara.HTML("h4", unsafe_innerHTML="Procurement team")
                    solara.SliderFloat(
                        f"Discount we demand (total): {demand.value:.0%}", value=demand, min=0.0, max=0.4, step=0.01
                    )
                with solara.Column():
                    solara.HTML("h4", unsafe_innerHTML="Supplier team")
                    solara.ToggleButtonsSingle(value=answer, values=list(ANSWERS), classes=["answer"])
                    if answer.value != "hold":
                        solara.SliderFloat(
                            f"Points we concede this round: {points.value:.1%}",
                            value=points,
                            min=0.0,
                            max=0.1,
                            step=0.005,
                        )
            solara.Button("Play round", color="primary", on_click=play, classes=["play-round"])
    if game.log:
        ts = game.series
        base = game.balanced[game.balanced["period"] <= ts["period"].iloc[-1]]
        periods = game.rounds * game.cycle
        svgs = [
            line_chart(
                "Discount",
                [
                    Line(ts["discount_mean"], "played", "#d62728"),
                    Line(base["discount_mean"], "balanced", "#d62728", "5 3"),
                ],
                periods=periods,
                unit="share",
                floor=0.0,
                chart_id="game-discount",
            ),
            line_chart(
                "Capability index",
                [
                    Line(ts["capability_index"], "played", "#111111"),
                    Line(base["capability_index"], "balanced", "#111111", "5 3"),
                ],
                periods=periods,
                floor=0.0,
                chart_id="game-capability",
            ),
            line_chart(
                f"Customer value ({currency})",
                [
                    Line(ts["customer_value"], "played", "#2ca02c"),
                    Line(base["customer_value"], "balanced", "#2ca02c", "5 3"),
                ],
                periods=periods,
                unit="money",
                floor=0.0,
                chart_id="game-value",
            ),
        ]
        solara.HTML(
            "div",
            unsafe_innerHTML="".join(f"<div>{s}</div>" for s in svgs),
            style="display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px",
        )
        log = game.round_log()
        shown = pd.DataFrame(
            {
                "round": log["round"],
                "demand": log["demand"].map("{:.0%}".format),
                "answer": log["answer"].map(ANSWERS),
                "points": log["points"].map("{:.1%}".format),
                "discount after": log["discount_after"].map("{:.1%}".format),
                "capability": log["capability_index"].map("{:.2f}".format),
                "customer value": log["customer_value_round"].map(lambda v: money(v, currency)),
                "supplier profit": log["supplier_profit_round"].map(lambda v: money(v, currency)),
            }
        )
        solara.HTML("div", unsafe_innerHTML=shown.to_html(index=False, classes="round-log", border=0))
    if game.finished:
        with solara.Card("Debrief", classes=["debrief"]):
            totals = game.totals()
            solara.HTML(
                "div", unsafe_innerHTML=totals.map(lambda v: money(v, currency)).to_html(classes="totals", border=0)
            )
            solara.FigureMatplotlib(game.debrief_figure(), format="png")
            with solara.Row():
                solara.FileDownload(
                    game.png, filename="debrief.png", label="Export debrief (PNG)", mime_type="image/png"
                )
                solara.FileDownload(
                    game.csv, filename="rounds.csv", label="Export round log (CSV)", mime_type="text/csv"
                )
