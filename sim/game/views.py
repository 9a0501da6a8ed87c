"""What each role is sent: the server decides, so data a role must not see never reaches its page.

* Procurement: its price, the value it perceives, its own value and savings, its market,
  and the supplier's answers once played. Never the supplier's margin, profit, cash,
  capabilities or investment.
* Supplier: its P&L, cash, capabilities, investment against what they need and where
  they are heading; procurement's demand for the open round only once it is submitted.
  Never procurement's perceived value, value, savings or market.
* Facilitator: every table's progress and both sides' figures (not the moves of the open
  round, which a projector would show the room).
* Nobody gets the balanced policy before the debrief; at the debrief everyone gets the
  room's debrief and the hidden variables.
* The join secrets of the seats go to the facilitator, and each seat's own to the devices
  seated there (so a team can add a teammate's device); device tokens go to nobody.

Views are cached per session version (they change only when something happens) and
encoded once, so a room of polling devices costs little.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable

import pandas as pd

from sim.engine.capabilities import CAPABILITIES
from sim.game import briefing, debrief
from sim.game.bots import bot_choices
from sim.game.seats import Device
from sim.game.session import Session
from sim.game.table import ANSWERS, MAX_DEMAND, MAX_POINTS, Table
from sim.reports.pages import money
from sim.reports.svg import Line, line_chart

_cache: weakref.WeakKeyDictionary[Session, dict[tuple, tuple[int, object]]] = weakref.WeakKeyDictionary()


def memo(session: Session, key: tuple, make: Callable[[], object]) -> object:
    """``make()``, computed once per session version and key, under the session's lock."""
    with session.lock:
        entries = _cache.setdefault(session, {})
        hit = entries.get(key)
        if hit is not None and hit[0] == session.version:
            return hit[1]
        value = make()
        entries[key] = (session.version, value)
        return value


def cached(session: Session, key: tuple, make: Callable[[], dict]) -> bytes:
    """``make()`` as JSON bytes, computed and encoded once per session version and key."""
    return memo(session, ("json", *key), lambda: json.dumps(make(), ensure_ascii=False, allow_nan=False).encode())


def _pct(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}%}"


def _last(ts: pd.DataFrame, column: str) -> float | None:
    return float(ts[column].iloc[-1]) if len(ts) else None


def _chart(
    session: Session, title: str, lines: list[Line], unit: str, chart_id: str, y_range: tuple[float, float]
) -> str:
    return line_chart(
        title,
        lines,
        periods=session.periods,
        unit=unit,
        y_range=y_range,
        per_year=session.scenario.periods_per_year,
        chart_id=chart_id,
        text=debrief.CHART_TEXT,
        size=debrief.CHART_SIZE,
    )


def _up_to(value: float, factor: float) -> tuple[float, float]:
    """A zero-based range up to ``factor`` times a starting figure (1 if that is not positive)."""
    return (0.0, factor * value if value > 0 else 1.0)


def common(session: Session) -> dict:
    """What every page needs: state, round, rounds, the debrief question, the scenario's units."""
    return {
        "code": session.code,
        "state": session.state,
        "round": session.round,
        "rounds": session.settings.rounds,
        "timer": session.settings.timer,
        "currency": session.scenario.currency,
        "question": session.question,
        "practice": session.practice,
        "practiced": session.practiced,
    }


def procurement_figures(session: Session, table: Table) -> list[list[str]]:
    """Procurement's own figures: what it pays, perceives, receives and saves, and its market."""
    ts, cur = table.series(), session.scenario.currency
    st = table.model.state
    served = st.supplier >= 0
    perceived = _last(ts, "perceived_value")
    if perceived is None:
        perceived = float(st.perceived_value[served].mean()) if served.any() else 0.0
    discount = table.discount()
    value_last = _last(ts, "customer_value")
    market = _last(ts, "market_success_mean")
    return [
        ["Discount in force", _pct(discount)],
        ["Service added instead of discount", _pct(table.level() - discount)],
        ["Price you pay (share of list price)", _pct(1 - discount)],
        ["Value you perceive (share of list price)", _pct(perceived, 0)],
        ["Your value last period", "-" if value_last is None else money(value_last, cur)],
        ["Your value so far", money(float(ts["customer_value"].sum()), cur)],
        ["Your savings so far (cash)", money(float(ts["savings"].sum()), cur)],
        ["Your own sales (1 = start)", "-" if market is None else f"{market:.2f}"],
        ["Customers still buying from this supplier", f"{int(served.sum())} of {len(served)}"],
    ]


def supplier_figures(session: Session, table: Table) -> list[list[str]]:
    """The supplier's own figures: its P&L, cash, capabilities and investment."""
    ts, cur = table.series(), session.scenario.currency
    st = table.model.state
    discount = table.discount()
    margin, profit, value = (_last(ts, c) for c in ("supplier_margin", "supplier_profit", "supplier_value"))
    need, invest = _last(ts, "investment_desired"), _last(ts, "investment")
    outlook = table.capability_outlook()
    return [
        ["Discount in force", _pct(discount)],
        ["Service added instead of discount", _pct(table.level() - discount)],
        ["Your margin last period", "-" if margin is None else _pct(margin)],
        ["Your profit last period (cash)", "-" if profit is None else money(profit, cur)],
        ["Your profit so far (cash)", money(float(ts["supplier_profit"].sum()), cur)],
        ["Your value last period", "-" if value is None else money(value, cur)],
        ["Your value so far", money(float(ts["supplier_value"].sum()), cur)],
        ["Your cash", money(float(st.cash[0]), cur)],
        ["Investment / what your capabilities need", "-" if not need else _pct(invest / need, 0)],
        ["Capability index (1 = start)", f"{outlook['index'][0]:.2f}"],
    ]


def supplier_outlook(table: Table) -> dict:
    """Where the capabilities are heading if investment stays as in the last period."""
    out = table.capability_outlook()
    names = {"index": "Capability index", **{c: c.replace("_", " ").capitalize() for c in CAPABILITIES}}
    return {
        "headers": ["Capability", "Now", "In 1 year", "In 2 years"],
        "rows": [[names[k], *(f"{v:.2f}" for v in out[k])] for k in ("index", *CAPABILITIES)],
    }


def procurement_charts(session: Session, table: Table) -> list[str]:
    ts, start = table.series(), session.first_period
    cur = session.scenario.currency
    return [
        _chart(
            session,
            "Discount: demanded and granted",
            [
                Line(ts["demand_mean"], "you demanded", "#ff9896", "2 2"),
                Line(ts["discount_mean"], "granted", "#d62728"),
            ],
            "share",
            "p-discount",
            (0.0, 0.3),
        ),
        _chart(
            session,
            f"Your value per period ({cur})",
            [Line(ts["customer_value"], "value", "#2ca02c")],
            "money",
            "p-value",
            _up_to(float(start["customer_value"]), 1.5),
        ),
        _chart(
            session,
            f"Your savings, cash ({cur})",
            [Line(ts["savings"], "savings", "#1f77b4")],
            "money",
            "p-savings",
            _up_to(float(start["revenue"]), 0.2),
        ),
    ]


def supplier_charts(session: Session, table: Table) -> list[str]:
    ts, start = table.series(), session.first_period
    cur = session.scenario.currency
    need = ts["investment_desired"].where(ts["investment_desired"] > 0)
    colors = {"quality": "#1f77b4", "innovation": "#9467bd", "support": "#2ca02c", "sales_coverage": "#ff7f0e"}
    return [
        _chart(
            session,
            f"Your profit, cash ({cur})",
            [Line(ts["supplier_profit"], "profit", "#8c564b")],
            "money",
            "s-profit",
            _up_to(float(start["supplier_profit"]), 2.0),
        ),
        _chart(
            session,
            "Your capabilities (1 = start)",
            [Line(ts["capability_index"], "index", "#111111")]
            + [Line(ts[c], c.replace("_", " "), col) for c, col in colors.items()],
            "index",
            "s-capabilities",
            (0.0, 1.2),
        ),
        _chart(
            session,
            "Investment / what is needed",
            [Line((ts["investment"] / need).fillna(0.0), "investment", "#8c564b")],
            "share",
            "s-investment",
            (0.0, 1.2),
        ),
    ]


def _answers(table: Table) -> list[dict]:
    """The supplier's three answers; conceding is offered only when procurement asked for more than is in force."""
    room = table.demand is not None and table.gap(table.demand) > 1e-9
    return [{"value": k, "label": v, "enabled": room or k == "hold"} for k, v in ANSWERS.items()]


def player_view(session: Session, player: Device) -> bytes:
    """The JSON a team's device gets: its own side only (see the module docstring)."""

    def make() -> dict:
        table = session.tables[player.table]
        role, other = player.role, "supplier" if player.role == "procurement" else "procurement"
        done = session.state in ("running", "paused") and table.rounds_played >= session.round
        view = {
            **common(session),
            "role": role,
            "table": table.name,
            "table_number": table.index + 1,
            "team": table.teams[role],
            "other_team": table.teams[other],
            "other_bot": bool(session.seats.seat(table.index, other).bot),
            "seat_key": session.seats.seat(table.index, role).key,
            "rounds_played": table.rounds_played,
            "table_done": done,
            "max_demand": briefing.typed(MAX_DEMAND),
            "max_points": MAX_POINTS,
            "answers": _answers(table),
            "briefing": list(briefing.BRIEFING[role]) if session.state == "lobby" else None,
            "practice_result": (
                dict(
                    zip(
                        ("headers", "rows"),
                        debrief.round_log_display(table.practice_log, session.scenario.currency, role),
                        strict=True,
                    )
                )
                if table.practice_log and session.state == "lobby"
                else None
            ),
        }
        if role == "procurement":
            view["my_move"] = None if table.demand is None else {"demand": table.demand}
            view["other_submitted"] = table.answer is not None
            view["sentence"] = briefing.procurement_sentence(table)
            view["in_force"] = briefing.typed(table.level())
            view["figures"] = procurement_figures(session, table)
            view["history"] = dict(
                zip(("headers", "rows"), debrief.round_log_display(table.log, view["currency"], role), strict=True)
            )
            view["charts"] = procurement_charts(session, table)
        else:
            view["my_move"] = None if table.answer is None else {"answer": table.answer[0], "points": table.answer[1]}
            view["other_submitted"] = table.demand is not None
            # procurement's demand for the open round, only once it is in
            view["demand"] = table.demand
            view["in_force"] = table.level()
            view["gap"] = None if table.demand is None else table.gap(table.demand)
            view["gap_typed"] = None if table.demand is None else briefing.typed(table.gap(table.demand))
            view["sentence"] = None if table.demand is None else briefing.supplier_sentence(table)
            view["figures"] = supplier_figures(session, table)
            view["outlook"] = supplier_outlook(table)
            view["history"] = dict(
                zip(("headers", "rows"), debrief.round_log_display(table.log, view["currency"], role), strict=True)
            )
            view["charts"] = supplier_charts(session, table)
        if session.state == "debrief":
            view["debrief"] = debrief_view(session)
        return view

    return cached(session, ("player", player.table, player.role), make)


def waiting_view(session: Session, device: Device) -> dict:
    """What a device waiting for the facilitator's approval sees: where it asked to sit."""
    table = session.tables[device.table]
    return {
        **common(session),
        "status": device.status,
        "request": device.request,
        "table": table.name,
        "role": device.role,
        "team": table.teams[device.role] or device.team,
    }


def debrief_view(session: Session) -> dict:
    """The room's debrief: charts, shared legend, ranking, questions, every table's rounds."""
    return memo(session, ("debrief",), lambda: _debrief_view(session))


def _debrief_view(session: Session) -> dict:
    headers, rows = debrief.ranking_display(session)
    cur = session.scenario.currency
    return {
        "title": debrief.title(session),
        "policy": debrief.POLICY + " Money in the charts is per period.",
        "legend": debrief.legend(session),
        "charts": debrief.svg_charts(session),
        "ranking": {"headers": headers, "rows": rows},
        "questions": list(debrief.QUESTIONS),
        "tables": [
            {
                "name": t.name,
                "teams": {"procurement": t.teams["procurement"], "supplier": t.teams["supplier"]},
                "rounds": dict(zip(("headers", "rows"), debrief.round_log_display(t.log, cur), strict=True)),
            }
            for t in session.tables
        ],
    }


def lobby_view(session: Session) -> dict:
    """What the join page shows for a code: the tables and who sits where (no figures)."""
    return {
        **common(session),
        "scenario": session.settings.scenario,
        "tables": [
            {
                "number": t.index + 1,
                "name": t.name,
                "procurement": t.teams["procurement"],
                "supplier": t.teams["supplier"],
            }
            for t in session.tables
        ],
    }


def facilitator_view(session: Session) -> bytes:
    """The facilitator's console: every table's progress and figures, the leaderboard, the settings."""

    def make() -> dict:
        cur = session.scenario.currency
        tables, board = [], []
        for t in session.tables:
            totals = t.totals()
            ts = t.series()
            done = t.rounds_played >= session.round and session.state in ("running", "paused")
            tables.append(
                {
                    "number": t.index + 1,
                    "name": t.name,
                    "procurement": t.teams["procurement"],
                    "supplier": t.teams["supplier"],
                    "seats": {
                        role: {
                            "devices": session.seats.seated(t.index, role),
                            "bot": session.seats.seat(t.index, role).bot,
                        }
                        for role in ("procurement", "supplier")
                    },
                    "rounds_played": t.rounds_played,
                    "demand_in": done or t.demand is not None,
                    "answer_in": done or t.answer is not None,
                    "done": done,
                    "discount": _pct(t.discount()),
                    "capability": "-" if not len(ts) else f"{ts['capability_index'].iloc[-1]:.2f}",
                    "procurement_value": money(totals["customer_value"], cur),
                    "supplier_value": money(totals["supplier_value"], cur),
                }
            )
            board.append((totals["joint_value"], t, totals))
        board.sort(key=lambda item: -item[0])
        s = session.settings
        return {
            **common(session),
            "settings": {
                "scenario": s.scenario,
                "rounds": s.rounds,
                "seed": session.seed,
                "tables": s.tables,
                "timer": s.timer,
                "table_names": ", ".join(s.table_names),
            },
            "devices": sum(1 for d in session.seats.devices.values() if d.status == "seated"),
            "waiting": [
                {
                    "request": d.request,
                    "table": d.table + 1,
                    "table_name": session.tables[d.table].name,
                    "role": d.role,
                    "team": session.tables[d.table].teams[d.role] or d.team,
                    "joins_team": session.tables[d.table].teams[d.role] is not None,
                }
                for d in session.seats.waiting()
            ],
            "undo": session.undo["label"] if session.undo else None,
            "story": briefing.round_story(session),
            "tables_in": session.tables_in(),
            "bots": bot_choices(),
            "tables": tables,
            "leaderboard": {
                "headers": [
                    "Table",
                    "Joint value",
                    "Procurement value",
                    "Procurement savings (cash)",
                    "Supplier value",
                    "Supplier profit (cash)",
                ],
                "rows": [
                    [
                        t.name,
                        money(joint, cur),
                        money(x["customer_value"], cur),
                        money(x["procurement_savings"], cur),
                        money(x["supplier_value"], cur),
                        money(x["supplier_profit"], cur),
                    ]
                    for joint, t, x in board
                ],
            },
            "debrief": debrief_view(session) if session.state == "debrief" else None,
        }

    return cached(session, ("facilitator",), make)
