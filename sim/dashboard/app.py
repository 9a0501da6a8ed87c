"""The dashboard page: levers, Setup / Step / Run N / Play, big numbers, phase, charts.

Each browser session gets its own :class:`Simulation` (``solara.use_memo`` inside the
``Page`` component), so two workshop tables never step each other's model. Levers act
when you press Setup, and the page says so while a changed lever is waiting. Every text
that comes from a scenario (names, currency, labels) is HTML-escaped where it is shown.
"""

from __future__ import annotations

import html
import os
import threading
import time
from typing import Any

import solara
import solara.lab

from ..fmt import money
from ..scenario import list_scenarios
from ..strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES
from .charts import Line, line_chart
from .game import Game
from .session import LEVERS, Frame, Simulation

DEFAULT_SCENARIO = os.environ.get("PROCSIM_SCENARIO", "procurement_squeeze")
START_VIEW = os.environ.get("PROCSIM_VIEW", "dashboard")
GAME_ROUNDS = int(os.environ.get("PROCSIM_ROUNDS", "6"))
PLAYABLE = sorted(s for s in SUPPLIER_STRATEGIES if s != "played")
DASHES = ("", "5 3")
CAPABILITY_COLORS = {"quality": "#1f77b4", "innovation": "#9467bd", "support": "#2ca02c", "sales_coverage": "#ff7f0e"}

NOTICE = {
    "balanced": [
        "The discount stays small and the balance inside the green band.",
        "Investment matches what the capabilities need: the lines stay flat.",
    ],
    "imbalance": [
        "Procurement's demand (dashed red) runs ahead of the discount granted.",
        "Watch the supplier's margin: every point of discount comes straight out of it.",
    ],
    "cutting": [
        (
            "Investment has dropped below what the capabilities need, but the capability lines "
            "have hardly moved yet: the lag hides the damage."
        ),
        "Ask: who in the customer's organisation can see this happening?",
    ],
    "spiral": [
        "Capabilities fall, the customer's value falls with them, and the demand keeps rising.",
        "Compare joint value with where it started: both sides are now poorer.",
    ],
    "collapse": [
        "Customers now pay for switching and redesign on top of the lost value.",
        "Run the same seed with 'hold' in side-by-side mode to see the road not taken.",
    ],
}


def series_of(frame: Frame, column: str) -> list[float]:
    """A column of a frame's series as a list (empty before the first step or if not recorded)."""
    return frame.series[column].tolist() if column in frame.series else []


def charts(frames: tuple[Frame, ...], periods: int, band: tuple[float, float], currency: str) -> list[str]:
    """The six charts; with two frames each series is drawn solid (first) and dashed (second)."""

    def lines(column: str, label: str, color: str, extra_dash: str = "") -> list[Line]:
        return [
            Line(
                series_of(f, column),
                label if len(frames) == 1 else f"{label} ({f.label})",
                color,
                DASHES[i] or extra_dash,
            )
            for i, f in enumerate(frames)
        ]

    discount = lines("discount_mean", "granted", "#d62728") + (
        [Line(series_of(frames[0], "demand_mean"), "demanded", "#ff9896", "2 2")] if len(frames) == 1 else []
    )
    capabilities = lines("capability_index", "index", "#111111")
    if len(frames) == 1:
        capabilities += [
            Line(series_of(frames[0], c), c.replace("_", " "), col) for c, col in CAPABILITY_COLORS.items()
        ]
    return [
        line_chart("Discount", discount, periods=periods, unit="share", floor=0.0, chart_id="discount"),
        line_chart("Capabilities (1 = start)", capabilities, periods=periods, floor=0.0, chart_id="capabilities"),
        line_chart(
            "Supplier margin",
            lines("supplier_margin", "margin", "#8c564b"),
            periods=periods,
            unit="share",
            chart_id="margin",
        ),
        line_chart(
            f"Supplier cash ({currency})",
            lines("supplier_cash", "cash", "#17becf"),
            periods=periods,
            unit="money",
            chart_id="cash",
        ),
        line_chart(
            f"Value per period ({currency})",
            lines("customer_value", "customer", "#2ca02c") + lines("joint_value", "joint", "#111111"),
            periods=periods,
            unit="money",
            floor=0.0,
            chart_id="value",
        ),
        line_chart(
            "Balance (supplier's share; green: fair band)",
            lines("balance_smoothed", "balance", "#7f7f7f"),
            periods=periods,
            unit="share",
            band=band,
            chart_id="balance",
        ),
    ]


def readouts(frame: Frame, currency: str) -> list[tuple[str, str]]:
    """The four big numbers of a frame as plain text: discount, margin, capability, customer value."""
    if frame.series.empty:
        return [("Discount", "-"), ("Supplier margin", "-"), ("Capability", "-"), ("Customer value / period", "-")]
    last = frame.series.iloc[-1]
    return [
        ("Discount", f"{last['discount_mean']:.1%}"),
        ("Supplier margin", f"{last['supplier_margin']:.1%}"),
        ("Capability", f"{last['capability_index']:.2f}"),
        ("Customer value / period", money(float(last["customer_value"]), currency)),
    ]


@solara.component
def BigNumbers(frame: Frame, currency: str):
    """The four big-number cards of one model, labelled with its strategy in side-by-side mode."""
    with solara.Row(gap="12px", style={"flex-wrap": "wrap"}):
        for label, value in readouts(frame, currency):
            with solara.Card(style={"min-width": "150px", "padding": "6px 12px", "margin": "0"}):
                solara.HTML(
                    "div",
                    unsafe_innerHTML=f"<div style='color:#6b7280;font-size:12px'>{html.escape(label)}"
                    f"{' &middot; ' + html.escape(frame.label) if frame.label else ''}</div>"
                    f"<div class='big-number' style='font-size:26px;font-weight:700'>{html.escape(value)}</div>",
                )


@solara.component
def StatusLine(frame: Frame, per_year: int):
    """The phase in plain words, coloured, with the period and year it applies to."""
    phase = frame.phase
    when = f"period {frame.period} (year {(frame.period - 1) // per_year + 1})" if frame.period else "not started"
    solara.HTML(
        "div",
        unsafe_innerHTML=(
            f"<div class='status-line' data-phase='{html.escape(phase.key)}' style='border-left:6px solid "
            f"{html.escape(phase.color)};padding:6px 12px;background:#f9fafb;margin:4px 0'><b style='color:"
            f"{html.escape(phase.color)}'>{html.escape(phase.label)}</b> &middot; {html.escape(frame.label)} &middot; "
            f"{when}<br><span style='color:#374151'>{html.escape(phase.explanation)}</span></div>"
        ),
    )


@solara.component
def LeverControls(pending: solara.Reactive[dict[str, Any]], applied: dict[str, Any]):
    """One control per lever showing its value; a lever not yet applied says so until Setup."""
    for lever in LEVERS:
        value = pending.value[lever.path]

        def set_value(v, path=lever.path):
            pending.set({**pending.value, path: v})

        changed = " (changed: press Setup)" if value != applied.get(lever.path) else ""
        if lever.path == "customers.procurement.style":
            solara.Select(
                label=f"{lever.label}{changed}", values=sorted(PROCUREMENT_STYLES), value=value, on_value=set_value
            )
        elif lever.path == "suppliers.strategy":
            solara.Select(label=f"{lever.label}{changed}", values=PLAYABLE, value=value, on_value=set_value)
        elif lever.path == "suppliers.count":
            solara.SliderInt(
                f"{lever.label}: {value}{changed}",
                value=int(value),
                min=int(lever.low),
                max=int(lever.high),
                on_value=set_value,
            )
        else:
            shown = f"{value:.0%}" if lever.percent else f"{value:.2f}"
            solara.SliderFloat(
                f"{lever.label}: {shown}{changed}",
                value=float(value),
                min=lever.low,
                max=lever.high,
                step=lever.step,
                on_value=set_value,
            )


@solara.component
def Dashboard():
    """The dashboard tab: one Simulation per browser session, levers, controls, phase, numbers and charts."""
    scenario_name = solara.use_reactive(DEFAULT_SCENARIO)
    compare_with = solara.use_reactive("hold")
    side_by_side = solara.use_reactive(False)
    seed = solara.use_reactive(1)
    current = solara.use_reactive(solara.use_memo(lambda: Simulation.create(DEFAULT_SCENARIO, seed=1), []))
    sim = current.value
    pending = solara.use_reactive(dict(sim.levers))
    version = solara.use_reactive(0)  # bumped after every step: re-renders the page
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(12)  # periods per second while playing
    run_n = solara.use_reactive(10)
    measured = solara.use_reactive("")

    def setup(levers: dict[str, Any] | None = None) -> None:
        playing.set(False)
        with sim.lock:  # wait for a step in flight
            new = Simulation.create(
                scenario_name.value,
                levers if levers is not None else pending.value,
                seed.value,
                compare_with.value if side_by_side.value else None,
            )
        current.set(new)
        pending.set(dict(new.levers))
        version.set(version.value + 1)

    def choose_scenario(name: str) -> None:
        scenario_name.set(name)
        setup(levers={})

    def step(n: int = 1) -> None:
        sim.step(n)
        version.set(version.value + 1)

    def play_loop(cancel: threading.Event) -> None:
        # Stops between periods only: solara's default (intrusive) cancel raises inside whatever
        # line runs, and a Pause landing inside Mesa's event loop left the model unable to step.
        start, steps = time.perf_counter(), 0
        while playing.value and sim.running and not cancel.is_set():
            tick = time.perf_counter()
            sim.step(1)
            steps += 1
            version.set(version.value + 1)
            time.sleep(max(1.0 / speed.value - (time.perf_counter() - tick), 0.0))
        if steps:
            rate = steps / (time.perf_counter() - start)
            measured.set(f"played {steps} periods at {rate:.1f} periods/s")
        playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value, id(sim)], intrusive_cancel=False)

    version.value  # noqa: B018 - reading it subscribes this component to every step
    frames = sim.frames
    scenario = sim.scenario
    with solara.Columns([1, 3]):
        with solara.Column():
            solara.Select(
                label="Scenario",
                values=[n for n, _, _ in list_scenarios()],
                value=scenario_name.value,
                on_value=choose_scenario,
            )
            LeverControls(pending, sim.levers)
            solara.InputInt("Seed", value=seed, continuous_update=True)
            solara.Checkbox(label="Side by side: same seed, second strategy", value=side_by_side)
            # always shown (disabled when off), so nothing moves under the pointer when it is ticked
            solara.Select(label="Second strategy", values=PLAYABLE, value=compare_with, disabled=not side_by_side.value)
            solara.Button("Setup (apply levers)", color="primary", on_click=setup, block=True, classes=["setup-button"])
        with solara.Column():
            with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Button(
                    "Step", on_click=lambda: step(1), disabled=playing.value or not sim.running, classes=["step-button"]
                )
                solara.Button(
                    f"Run {run_n.value}",
                    on_click=lambda: step(run_n.value),
                    disabled=playing.value or not sim.running,
                    classes=["run-button"],
                )
                solara.InputInt("N", value=run_n, continuous_update=True, style={"max-width": "70px"})
                solara.Button(
                    "Pause" if playing.value else "Play",
                    color="primary",
                    on_click=lambda: playing.set(not playing.value),
                    disabled=not sim.running,
                    classes=["play-button"],
                )
                solara.SliderInt(f"Speed: {speed.value} periods/s", value=speed, min=1, max=30)
                solara.Text(f"period {frames[0].period} of {sim.periods}", classes=["period-counter"])
                if measured.value:
                    solara.Text(measured.value, classes=["play-rate"])
            for frame in frames:
                StatusLine(frame, scenario.periods_per_year)
                BigNumbers(frame, scenario.currency)
            svgs = charts(frames, sim.periods, scenario.market.fair_band, scenario.currency)
            solara.HTML(
                "div",
                unsafe_innerHTML="".join(f"<div>{svg}</div>" for svg in svgs),
                style="display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px",
                classes=["charts"],
            )
            with solara.Card("Things to notice", classes=["notice"]):
                solara.HTML(
                    "ul",
                    unsafe_innerHTML="".join(f"<li>{html.escape(item)}</li>" for item in NOTICE[frames[0].phase.key]),
                )


@solara.component
def Page():
    """The served page: the dashboard and the game as two tabs (solara looks for ``Page``)."""
    solara.Title("procsim: value exchange live")
    with solara.lab.Tabs(value=1 if START_VIEW == "game" else 0):
        with solara.lab.Tab("Dashboard"):
            Dashboard()
        with solara.lab.Tab("Negotiation game"):
            Game(DEFAULT_SCENARIO, GAME_ROUNDS)
