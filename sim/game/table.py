"""One table of the room game: a procurement team, a supplier team and their own market model.

The market is a plain :class:`~sim.engine.model.ProcurementModel` of the game scenario (one
``played`` supplier, every customer renewing together at the start of each round). A round
sets the supplier team's answer on the ``played`` strategy and procurement's demand as the
model's ``demand_override``, then steps one contract cycle period by period: a played round
is settled by exactly the code that settles a simulated one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.model import ProcurementModel
from sim.inputs.loading import load_scenario
from sim.inputs.schema import Scenario

ROLES = ("procurement", "supplier")
ANSWERS = {
    "discount": "Grant a discount",
    "value_trade": "Add service instead of a discount",
    "hold": "Hold the price and explain its value",
}
MAX_DEMAND = 0.6  # the largest total discount procurement may demand
MAX_POINTS = 0.10  # the most the supplier may concede in one round (share of list price)
EPS = 1e-9
# People type percentages with one decimal: a limit shown as 5.0% accepts 5.0 even when the exact
# limit is 4.999999999999999% (the figure is then applied exactly at the limit).
TYPED = 0.0005
BOT = "bot:"  # an answer "bot:<strategy>": the supplier's seat is played by that engine strategy


class GameError(ValueError):
    """Input the game refuses (a bad move, name or setting), with the field it concerns."""

    def __init__(self, message: str, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


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


def step_period(model: ProcurementModel) -> dict[str, float]:
    """Step one period and read two figures the recorder does not keep.

    ``perceived_value``: the value per unit procurement perceives (mean over customers
    still served; a share of list price). ``savings``: what the customers saved on list
    price this period (procurement's cash gain).
    """
    model.step()
    st = model.state
    served = st.supplier >= 0
    return {
        "perceived_value": float(st.perceived_value[served].mean()) if served.any() else 0.0,
        "savings": float(st.list_revenue.sum() - st.revenue.sum()),
    }


def series_of(model: ProcurementModel, ledger: list[dict[str, float]]) -> pd.DataFrame:
    """A model's series so far with the ledger's columns beside it (empty before the first period)."""
    ts = model.recorder.timeseries()
    extra = pd.DataFrame(ledger, columns=["perceived_value", "savings"])
    return pd.concat([ts.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)


@dataclass(frozen=True)
class Moves:
    """Both teams' moves for a round, and whether each was repeated because it was missing.

    ``answer`` is one of ANSWERS, or ``bot:<strategy>`` when a bot plays the supplier's seat
    (then ``points`` is what the strategy conceded, known once the round is played).
    """

    demand: float
    answer: str
    points: float
    demand_repeated: bool
    answer_repeated: bool
    demand_bot: str = ""  # the procurement style of a bot that made the demand

    @classmethod
    def of(cls, row: dict) -> Moves:
        """The moves of a round's log row (to replay it)."""
        return cls(
            float(row["demand"]),
            str(row["answer"]),
            float(row["points"]),
            bool(row["demand_repeated"]),
            bool(row["answer_repeated"]),
            str(row.get("demand_bot", "")),
        )

    def as_dict(self) -> dict:
        """The moves as plain values (what a saved session keeps of a round)."""
        return {
            "demand": self.demand,
            "answer": self.answer,
            "points": self.points,
            "demand_repeated": self.demand_repeated,
            "answer_repeated": self.answer_repeated,
            "demand_bot": self.demand_bot,
        }


class Table:
    """A table's market model, its two teams and the moves and results of each round."""

    def __init__(self, index: int, name: str, scenario: Scenario, seed: int) -> None:
        self.index, self.name = index, name
        self.model = ProcurementModel(scenario, rng=seed, record_agents_every=0)
        self.teams: dict[str, str | None] = dict.fromkeys(ROLES)
        self.demand: float | None = None  # this round's demand, once procurement has submitted
        self.demand_bot = ""  # the style of the bot that made this round's demand, if one did
        self.answer: tuple[str, float] | None = None  # this round's answer and points
        self.seed = seed
        self.log: list[dict] = []  # one row per round played
        self.practice_log: list[dict] = []  # the practice round's row, once played (it does not count)
        self.ledger: list[dict[str, float]] = []  # one row per period (see step_period)
        self._series: tuple[int, pd.DataFrame] | None = None  # (period, series) cache

    # ------------------------------------------------------------------ state now

    @property
    def rounds_played(self) -> int:
        """Rounds this table has played."""
        return len(self.log)

    def _served(self) -> np.ndarray:
        return self.model.state.supplier >= 0

    def level(self) -> float:
        """The concession in force (discount plus service added, share of list price), mean over served customers."""
        st, served = self.model.state, self._served()
        return float((st.discount[served] + st.gift[served]).mean()) if served.any() else 0.0

    def discount(self) -> float:
        """The discount in force, mean over served customers."""
        st, served = self.model.state, self._served()
        return float(st.discount[served].mean()) if served.any() else 0.0

    def gap(self, demand: float) -> float:
        """How far ``demand`` is above the concession in force: the most the supplier can concede."""
        return min(max(demand - self.level(), 0.0), MAX_POINTS)

    def pending(self) -> dict:
        """This round's moves so far (what a saved session keeps of the open round)."""
        return {"demand": self.demand, "demand_bot": self.demand_bot, "answer": self.answer}

    def restore_pending(self, pending: dict) -> None:
        """Put back moves saved by pending()."""
        self.demand = None if pending.get("demand") is None else float(pending["demand"])
        self.demand_bot = str(pending.get("demand_bot") or "")
        answer = pending.get("answer")
        self.answer = None if answer is None else (str(answer[0]), float(answer[1]))

    @property
    def ready(self) -> bool:
        """Whether both teams have submitted this round's move."""
        return self.demand is not None and self.answer is not None

    # ------------------------------------------------------------------ moves

    def submit_demand(self, demand: float, bot: str = "") -> None:
        """Procurement's move: the total discount it demands (share of list price); ``bot``: the style that made it."""
        if self.demand is not None:
            raise GameError("your demand for this round is already in", "demand", 409)
        if not isinstance(demand, int | float) or not np.isfinite(demand) or not 0.0 <= demand <= MAX_DEMAND + TYPED:
            raise GameError(f"the demanded discount must be between 0% and {MAX_DEMAND:.0%}", "demand")
        self.demand, self.demand_bot = min(float(demand), MAX_DEMAND), bot

    def submit_answer(self, answer: str, points: float = 0.0) -> None:
        """The supplier's move, once it has seen the demand: an answer from ANSWERS and the points it concedes."""
        if self.answer is not None:
            raise GameError("your answer for this round is already in", "answer", 409)
        if self.demand is None:
            raise GameError("procurement has not made its demand yet; wait for it", "answer", 409)
        if answer not in ANSWERS:
            raise GameError("choose one of the three answers", "answer")
        if answer == "hold":
            points = 0.0
        gap = self.gap(self.demand)
        if not isinstance(points, int | float) or not np.isfinite(points) or not 0.0 <= points <= gap + TYPED:
            raise GameError(
                f"the points conceded must be between 0 and {gap:.1%} (what procurement asked for on top of "
                f"what is in force, at most {MAX_POINTS:.0%})",
                "points",
            )
        if answer != "hold" and gap <= EPS:
            raise GameError("procurement asked for nothing beyond what is in force: hold the price", "answer")
        self.answer = (answer, min(float(points), gap))

    def submit_bot_answer(self, strategy: str) -> None:
        """A bot's answer: the engine's supplier ``strategy`` settles the round (see play())."""
        if self.answer is not None:
            raise GameError("the answer for this round is already in", "answer", 409)
        self.answer = (BOT + strategy, 0.0)

    def moves(self) -> Moves:
        """This round's moves; a missing one repeats the team's last (first round: no new demand, hold)."""
        last = self.log[-1] if self.log else None
        demand_repeated = self.demand is None
        demand = self.demand if self.demand is not None else (last["demand"] if last else self.level())
        demand_bot = self.demand_bot if self.demand is not None else (last.get("demand_bot", "") if last else "")
        if self.answer is not None:
            answer, points = self.answer
        else:
            answer, points = (last["answer"], last["points"]) if last else ("hold", 0.0)
        points = 0.0 if answer.startswith(BOT) else min(points, self.gap(demand))
        return Moves(demand, answer, points, demand_repeated, self.answer is None, demand_bot)

    def play(self, moves: Moves | None = None) -> dict:
        """Run one round (a contract cycle) with this round's moves (or ``moves``, to replay a saved round).

        A human supplier's answer is set on the ``played`` strategy; a bot's strategy stands in
        for it during the round, so the engine's own strategy settles the renewal. Returns the
        round's log row.
        """
        moves = moves or self.moves()
        model = self.model
        first, level = model.period, self.level()
        played = model.strategies["played"]
        if moves.answer.startswith(BOT):
            from sim.game.bots import supplier_strategy

            model.strategies["played"] = supplier_strategy(moves.answer.removeprefix(BOT))
        else:
            played.decide(moves.answer, moves.points)
        model.demand_override = moves.demand
        try:
            for _ in range(model.cycle):
                if model.running:
                    self.ledger.append(step_period(model))
        finally:
            model.strategies["played"] = played
        if moves.answer.startswith(BOT):  # what the strategy conceded, for the log
            moves = Moves(**{**moves.as_dict(), "points": max(self.level() - level, 0.0)})
        ts = self.series()
        played = ts[ts["period"] >= first]
        last = ts.iloc[-1]
        row = {
            "round": len(self.log) + 1,
            "first_period": first,
            "last_period": int(last["period"]),
            "demand": moves.demand,
            "demand_repeated": moves.demand_repeated,
            "answer": moves.answer,
            "points": moves.points,
            "answer_repeated": moves.answer_repeated,
            "discount_after": float(last["discount_mean"]),
            "service_value_after": float(last["gift_value_mean"]),
            "supplier_margin": float(last["supplier_margin"]),
            "capability_index": float(last["capability_index"]),
            "customers_served": int(last["customers_served"]),
            "procurement_savings": float(played["savings"].sum()),
            "customer_value": float(played["customer_value"].sum()),
            "supplier_profit": float(played["supplier_profit"].sum()),
            "supplier_value": float(played["supplier_value"].sum()),
            "joint_value": float(played["joint_value"].sum()),
            "demand_bot": moves.demand_bot,
        }
        self.log.append(row)
        self.demand = self.answer = None
        self.demand_bot = ""
        return row

    def rebuilt(self, scenario: Scenario, rounds: int | None = None) -> Table:
        """A fresh table with the same name, seed and teams that replays this table's first ``rounds`` rounds."""
        table = Table(self.index, self.name, scenario, self.seed)
        table.teams = dict(self.teams)
        for row in self.log[: len(self.log) if rounds is None else rounds]:
            table.play(Moves.of(row))
        return table

    # ------------------------------------------------------------------ figures

    def series(self) -> pd.DataFrame:
        """Every period played so far: the recorder's series plus perceived value and savings.

        Built once per period played (pages ask for it at every change in the room); treat
        it as read-only.
        """
        if self._series is None or self._series[0] != self.model.period:
            self._series = (self.model.period, series_of(self.model, self.ledger))
        return self._series[1]

    def totals(self) -> dict[str, float]:
        """Each side's figures summed over the periods played."""
        return series_totals(self.series())

    def capability_outlook(self, years: tuple[int, ...] = (1, 2)) -> dict[str, list[float]]:
        """Each capability now and in ``years`` if the supplier keeps investing as in the last period.

        Capabilities move toward what the investment sustains with the supplier's erosion or
        rebuild lag (the model's asymmetric first-order delay), so a cut shows up here before it shows up in
        the delivered value. Keys: the capabilities and ``index``; values: now, then each year.
        """
        from sim.engine.capabilities import CAPABILITIES

        m, st = self.model, self.model.state
        capability = st.capability[0].copy()
        reference = m.reference_spend[0] * st.list_revenue[0]
        sustained = np.divide(st.investment[0], reference, out=capability.copy(), where=reference > 0)
        # Erosion and rebuilding run at different speeds (the model's asymmetric delay).
        rate = np.where(sustained < capability, m.capability_rate[0], m.rebuild_rate[0])
        importance = (m.links.base.T @ m.group_weights)[0]
        weights = importance / importance.sum() if importance.sum() > 0 else np.full(len(capability), 0.25)
        out: dict[str, list[float]] = {name: [float(capability[k])] for k, name in enumerate(CAPABILITIES)}
        out["index"] = [float(weights @ capability)]
        for year in years:
            periods = year * m.config.periods_per_year
            ahead = sustained + (capability - sustained) * (1.0 - rate) ** periods
            for k, name in enumerate(CAPABILITIES):
                out[name].append(float(ahead[k]))
            out["index"].append(float(weights @ ahead))
        return out


def series_totals(ts: pd.DataFrame) -> dict[str, float]:
    """Each side's figures summed over the periods of ``ts`` (a table's series, or the balanced policy's)."""
    return {
        "procurement_savings": float(ts["savings"].sum()),
        "customer_value": float(ts["customer_value"].sum()),
        "supplier_profit": float(ts["supplier_profit"].sum()),
        "supplier_value": float(ts["supplier_value"].sum()),
        "joint_value": float(ts["joint_value"].sum()),
    }
