"""The dashboard page: levers, Setup / Reset / Step / Run / Play, big numbers, phase, charts, export.

Each browser session gets its own :class:`Simulation` (``solara.use_memo`` inside the
``Dashboard`` component), so two workshop tables never step each other's model. Levers
act when you press Setup, and the page says so while a changed lever is waiting. The page
fits a 1024x768 projector: the levers scroll in their own column with Setup and Reset
always in view, and the charts sit above the fold with 14 px text. The room game is
``procsim game`` (:mod:`sim.game`), not a tab of this page. Every text that comes from a
scenario (names, currency, labels) is HTML-escaped where it is shown; every value the page
sends is checked on the server (:mod:`.checks`), and an error is a message on the page,
never a traceback.
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import reacton.ipyvuetify as rv
import solara

from sim.dashboard import checks, figures, labels
from sim.dashboard.notice import notices
from sim.dashboard.session import LEVERS, Frame, Simulation
from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES
from sim.inputs.loading import load_scenario
from sim.reports.fmt import money

DEFAULT_SCENARIO = checks.default_scenario()
PLAYABLE = sorted(s for s in SUPPLIER_STRATEGIES if s != "played")
MAX_RUN = 1000
MAX_SEED = 2**32 - 1
FRAMES_PER_SECOND = 12  # the most page updates a second while playing; faster speeds step several periods a frame

CSS = """
.v-btn { text-transform: none !important; letter-spacing: normal !important; }
.procsim-page { display: grid; grid-template-columns: 250px minmax(0, 1fr); gap: 12px; padding: 4px 8px;
  height: 100vh; box-sizing: border-box; }
.procsim-levers { display: flex; flex-direction: column; height: calc(100vh - 8px); min-height: 0; }
.procsim-levers .lever-scroll { flex: 1 1 auto; overflow-y: auto; min-height: 0; padding: 12px 6px 0 0; }
.procsim-levers .lever-scroll .v-input { margin-top: 2px !important; }
.procsim-levers .lever-scroll .v-input--selection-controls { padding-top: 2px !important; }
.procsim-levers .lever-scroll .v-input__slot { margin-bottom: 0 !important; }
.procsim-levers .lever-buttons { flex: 0 0 auto; padding-top: 6px; }
.procsim-main { overflow-y: auto; height: calc(100vh - 8px); min-width: 0; padding-top: 12px; box-sizing: border-box; }
.procsim-main .toolbar .v-input { margin-top: 0 !important; }
.big-numbers { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; margin: 4px 0; }
.big-numbers .card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 2px 10px; background: #fff; }
.big-numbers .label { color: #6b7280; font-size: 12px; }
.big-numbers .big-number { font-size: 22px; font-weight: 700; }
.charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 10px; }
@media (min-width: 1650px) { .charts { grid-template-columns: repeat(6, minmax(0, 1fr)); } }
.chart-box { min-width: 0; }
.chart-box svg { display: block; max-width: 300px; }
.chart-title { font-size: 16px; font-weight: 600; line-height: 1.2; }
.chart-legend { font-size: 14px; line-height: 1.25; color: #374151; min-height: 36px; }
.chart-legend .legend-entry { display: inline-block; margin-right: 10px; white-space: nowrap; }
.chart-legend .swatch { display: inline-block; width: 16px; height: 0; border-top: 3px solid; vertical-align: middle;
  margin-right: 4px; }
.chart-legend .swatch.dashed { border-top-style: dashed; }
.chart-legend .band { display: inline-block; width: 16px; height: 10px; background: #dcfce7; vertical-align: middle;
  margin-right: 4px; }
.notice li { font-size: 16px; }
"""


def readouts(frame: Frame, currency: str) -> list[tuple[str, str]]:
    """The four big numbers of a frame: discount, margin, capability, customer value."""
    if frame.series.empty:
        return [("Discount", "-"), ("Supplier margin", "-"), ("Capability", "-"), ("Customer value / period", "-")]
    last = frame.series.iloc[-1]
    return [
        ("Discount", f"{last['discount_mean']:.1%}"),
        ("Supplier margin", f"{last['supplier_margin']:.1%}"),
        ("Capability", f"{last['capability_index']:.2f}"),
        ("Customer value / period", money(float(last["customer_value"]), currency)),
    ]


parse_whole = checks.whole


def slider(label: str, value: float, low: float, high: float, step: float, on_value: Callable[[object], None]):
    """A slider whose every value (whatever the browser sends) goes to ``on_value`` unconverted.

    solara's own sliders convert the value before any handler sees it, so a crafted one
    (text, a list) failed inside solara; here the handler checks it (:mod:`.checks`).
    """
    return rv.Slider(
        v_model=value,
        on_v_model=on_value,
        label=label,
        min=low,
        max=high,
        step=step,
        thumb_label=True,
        dense=False,
        hide_details=True,
    )


def guarded(error: solara.Reactive[str], handler: Callable[..., None]) -> Callable[..., None]:
    """``handler`` for a widget: a bad value or any failure becomes a message on the page, never a traceback."""

    def run(*args: Any) -> None:
        try:
            handler(*args)
        except Exception as exc:  # noqa: BLE001 - the page shows every error as a message
            error.set(checks.message(exc))

    return run


@solara.component
def BigNumbers(frame: Frame, currency: str, side_by_side: bool):
    """The four big numbers of one model, labelled with its strategy in side-by-side mode."""
    suffix = f" · {labels.strategy(frame.label)}" if side_by_side else ""
    with solara.Div(classes=["big-numbers"]):
        for label, value in readouts(frame, currency):
            solara.HTML(
                "div",
                unsafe_innerHTML=(
                    f"<div class='label'>{html.escape(label + suffix)}</div>"
                    f"<div class='big-number'>{html.escape(value)}</div>"
                ),
                classes=["card"],
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
            f"{html.escape(phase.color)};padding:3px 10px;background:#f9fafb;margin:2px 0'><b style='color:"
            f"{html.escape(phase.color)}'>{html.escape(phase.label)}</b>"
            f" &middot; {html.escape(labels.strategy(frame.label))} &middot; {when}<br>"
            f"<span style='color:#374151;font-size:14px'>{html.escape(phase.explanation)}</span>"
            + (
                f"<br><span class='outlook' style='font-size:14px'><b>Outlook:</b> {html.escape(frame.outlook)}</span>"
                if frame.outlook
                else ""
            )
            + "</div>"
        ),
    )


@solara.component
def LeverControls(pending: solara.Reactive[dict[str, Any]], applied: dict[str, Any], error: solara.Reactive[str]):
    """One control per lever showing its value; a lever not yet applied says so until Setup; values checked."""
    for lever in LEVERS:
        value = pending.value[lever.path]

        def set_value(v, lever=lever, choices=None):
            pending.set({**pending.value, lever.path: checks.lever_value(lever, v, choices)})
            error.set("")

        changed = " (changed: press Setup)" if value != applied.get(lever.path) else ""
        if lever.path in ("customers.procurement.style", "suppliers.strategy"):
            names = sorted(PROCUREMENT_STYLES) if lever.path == "customers.procurement.style" else PLAYABLE
            plain = labels.style if lever.path == "customers.procurement.style" else labels.strategy
            by_label = {plain(n): n for n in names}
            solara.Select(
                label=f"{lever.label}{changed}",
                values=list(by_label),
                value=plain(value),
                on_value=guarded(
                    error,
                    lambda text, set_value=set_value, by_label=by_label, lever=lever, names=names: set_value(
                        checks.choice(by_label, text, lever.label), choices=names
                    ),
                ),
                dense=True,
            )
        else:
            shown = (
                str(value) if lever.path == "suppliers.count" else f"{value:.0%}" if lever.percent else f"{value:.2f}"
            )
            slider(
                f"{lever.label}: {shown}{changed}",
                value,
                lever.low,
                lever.high,
                lever.step,
                guarded(error, set_value),
            )


def first_market() -> tuple[Simulation, str]:
    """The market a new session starts with: the command line's scenario, or the squeeze (with why) if it fails."""
    try:
        return Simulation.create(DEFAULT_SCENARIO), ""
    except Exception as exc:  # noqa: BLE001 - e.g. the scenario file was edited since the server started
        return Simulation.create("procurement_squeeze"), checks.message(exc)


@solara.component
def Dashboard():
    """One Simulation per browser session: levers, controls, phase, numbers, charts and export."""
    first, failed = solara.use_memo(first_market, [])
    scenario_name = solara.use_reactive(first.scenario_name)
    compare_with = solara.use_reactive("hold")
    side_by_side = solara.use_reactive(False)
    seed_text = solara.use_reactive(str(first.seed))  # the scenario's seed, as on the command line
    current = solara.use_reactive(first)
    sim = current.value
    pending = solara.use_reactive(dict(sim.levers))
    version = solara.use_reactive(0)  # bumped after every step: re-renders the page
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(12)  # periods per second while playing
    run_text = solara.use_reactive("10")
    measured = solara.use_reactive("")
    error = solara.use_reactive(failed)

    def setup(levers: dict[str, Any] | None = None, seed: int | None = None) -> None:
        playing.set(False)
        try:
            seed = parse_whole(seed_text.value, "The seed", 0, MAX_SEED) if seed is None else seed
            with sim.lock:  # wait for a step in flight
                new = Simulation.create(
                    checks.scenario(scenario_name.value),
                    levers if levers is not None else pending.value,
                    seed,
                    checks.choice({n: n for n in PLAYABLE}, compare_with.value, "Second strategy")
                    if side_by_side.value
                    else None,
                )
        except Exception as exc:  # noqa: BLE001 - a message on the page; the market on screen stays
            error.set(checks.message(exc))
            return
        error.set("")
        current.set(new)
        pending.set(dict(new.levers))
        measured.set("")
        version.set(version.value + 1)

    def reset() -> None:
        """The same market from period 0: the levers and seed it was set up with."""
        scenario_name.set(sim.scenario_name)
        seed_text.set(str(sim.seed))
        setup(levers=dict(sim.levers), seed=sim.seed)

    def choose_scenario(name: object) -> None:
        name = checks.scenario(name)  # a listed name only: nothing else is ever opened
        seed = load_scenario(name).seed
        scenario_name.set(name)
        seed_text.set(str(seed))
        setup(levers={}, seed=seed)

    def choose_speed(value: object) -> None:
        speed.set(checks.speed(value))

    def step(n: int | None = 1) -> None:
        if n is None:
            try:
                n = parse_whole(run_text.value, "Periods to run", 1, MAX_RUN)
            except ValueError as exc:
                error.set(str(exc))
                return
        error.set("")
        sim.step(n)
        version.set(version.value + 1)

    def play_loop(cancel: threading.Event) -> None:
        # Stops between periods only: solara's default (intrusive) cancel raises inside whatever
        # line runs, and a Pause landing inside Mesa's event loop left the model unable to step.
        # Above FRAMES_PER_SECOND periods a second, each page update shows several periods.
        start, steps = time.perf_counter(), 0
        while playing.value and sim.running and not cancel.is_set():
            tick = time.perf_counter()
            batch = math.ceil(speed.value / FRAMES_PER_SECOND)
            sim.step(batch)
            steps += batch
            version.set(version.value + 1)
            time.sleep(max(batch / speed.value - (time.perf_counter() - tick), 0.0))
        if steps:
            rate = steps / (time.perf_counter() - start)
            measured.set(f"played {steps} periods at {rate:.1f} periods/s")
        playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value, id(sim)], intrusive_cancel=False)

    version.value  # noqa: B018 - reading it subscribes this component to every step
    frames = sim.frames
    scenario = sim.scenario
    per_year = scenario.periods_per_year
    items = figures.panels(frames, figures.ranges_from(sim.first), scenario.market.fair_band, scenario.currency)
    title = f"{sim.scenario_name}, seed {sim.seed}, period {frames[0].period} of {sim.periods}"
    stem = f"procsim-{sim.scenario_name}-seed{sim.seed}-period{frames[0].period}"
    typed = str(run_text.value).strip()[:6]
    run_label = typed if typed.isdigit() else "N"
    solara.Style(CSS)
    with solara.Div(classes=["procsim-page"]):
        with solara.Div(classes=["procsim-levers"]):
            with solara.Div(classes=["lever-scroll"]):
                solara.Select(
                    label="Scenario",
                    values=checks.allowed_scenarios(),
                    value=scenario_name.value,
                    on_value=guarded(error, choose_scenario),
                    dense=True,
                )
                LeverControls(pending, sim.levers, error)
                solara.InputText("Seed", value=seed_text, continuous_update=True, dense=True, classes=["seed-input"])
                solara.Checkbox(label="Side by side: same seed, second strategy", value=side_by_side)
                # always shown (disabled when off), so nothing moves under the pointer when it is ticked
                by_label = {labels.strategy(n): n for n in PLAYABLE}
                solara.Select(
                    label="Second strategy",
                    values=list(by_label),
                    value=labels.strategy(compare_with.value),
                    on_value=guarded(
                        error, lambda text: compare_with.set(checks.choice(by_label, text, "Second strategy"))
                    ),
                    disabled=not side_by_side.value,
                    dense=True,
                )
            with solara.Div(classes=["lever-buttons"]):
                solara.Button(
                    "Setup (apply levers)",
                    color="primary",
                    on_click=lambda: setup(),  # noqa: PLW0108 - setup(levers=None): no callback arguments
                    block=True,
                    classes=["setup-button"],
                )
                solara.Button(
                    "Reset (back to period 0)",
                    on_click=guarded(error, reset),
                    block=True,
                    classes=["reset-button"],
                    style="margin-top:6px",
                )
        with solara.Div(classes=["procsim-main"]):
            with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["toolbar"]):
                solara.Button(
                    "Step",
                    on_click=guarded(error, lambda: step(1)),
                    disabled=playing.value or not sim.running,
                    classes=["step-button"],
                )
                solara.Button(
                    f"Run {run_label} periods",
                    on_click=guarded(error, lambda: step(None)),
                    disabled=playing.value or not sim.running,
                    classes=["run-button"],
                )
                solara.InputText(
                    "Periods to run", value=run_text, continuous_update=True, dense=True, style={"max-width": "110px"}
                )
                solara.Button(
                    "Pause" if playing.value else "Play",
                    color="primary",
                    on_click=lambda: playing.set(not playing.value),
                    disabled=not sim.running,
                    classes=["play-button"],
                )
                slider(
                    f"Speed: {speed.value} periods/s", speed.value, 1, checks.MAX_SPEED, 1, guarded(error, choose_speed)
                )
                solara.Text(f"period {frames[0].period} of {sim.periods}", classes=["period-counter"])
                if measured.value:
                    solara.Text(measured.value, classes=["play-rate"])
            if error.value:
                solara.Error(error.value, classes=["input-error"], dense=True)
            for frame in frames:
                StatusLine(frame, per_year)
                BigNumbers(frame, scenario.currency, len(frames) > 1)
            solara.HTML("div", unsafe_innerHTML=figures.html_panels(items, sim.periods, per_year), classes=["charts"])
            with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["exports"]):
                solara.FileDownload(
                    lambda: figures.png(items, sim.periods, per_year, scenario.currency, title),
                    filename=f"{stem}.png",
                    label="Export charts (PNG)",
                    mime_type="image/png",
                )
                solara.FileDownload(
                    lambda: figures.csv(frames, per_year),
                    filename=f"{stem}.csv",
                    label="Export series (CSV)",
                    mime_type="text/csv",
                )
            with solara.Card("Things to notice", classes=["notice"]):
                solara.HTML(
                    "ul",
                    unsafe_innerHTML="".join(f"<li>{html.escape(item)}</li>" for item in notices(frames[0], scenario)),
                )


@solara.component
def Page():
    """The served page (solara looks for ``Page``): the dashboard, or a plain message if it fails to draw."""
    solara.Title("procsim: value exchange live")
    failure, clear = solara.use_exception()
    if failure is not None:
        solara.Error(checks.message(failure), classes=["page-error"])
        solara.Button("Start again", on_click=clear)
        return
    Dashboard()
