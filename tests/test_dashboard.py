"""The dashboard, server-side: rendered with solara.render() as Mesa's own tests do."""

from __future__ import annotations

import io
import re
import threading

import pandas as pd
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
pytest.importorskip("solara.widgets")  # loads the submodule (solara.widgets.* below)

from sim.dashboard import figures  # noqa: E402
from sim.dashboard.app import Dashboard, Page  # noqa: E402
from sim.dashboard.phase import PHASES, phase_of  # noqa: E402
from sim.dashboard.session import Simulation  # noqa: E402
from sim.engine.model import ProcurementModel  # noqa: E402


def html_of(rc) -> list[str]:
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if w.unsafe_innerHTML]


def status(rc) -> str:
    return next(t for t in html_of(rc) if "status-line" in t)


def test_page_renders_the_dashboard_without_tabs():
    _box, rc = solara.render(Page(), handle_error=False)
    assert rc.find(v.Btn, children=["Setup (apply levers)"]) and not rc.find(v.Tab)


def test_stepping_changes_readouts_status_and_charts():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    before = html_of(rc)
    assert "not started" in status(rc)
    rc.find(v.Btn, children=["Run 10 periods"]).widget.click()
    after = html_of(rc)
    assert "period 10 (year 3)" in status(rc)
    chart_before = next(t for t in before if 'data-chart="capabilities"' in t)
    chart_after = next(t for t in after if 'data-chart="capabilities"' in t)
    assert 'data-points="0"' in chart_before and 'data-points="10"' in chart_after
    assert any("big-number" in t and "%" in t for t in after)


def test_a_lever_applies_at_setup_and_says_so_until_then():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    slider = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Savings target"))
    slider.v_model = 0.0
    slider = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Savings target"))
    assert slider.label == "Savings target: 0% (changed: press Setup)"
    rc.find(v.Btn, children=["Setup (apply levers)"]).widget.click()
    slider = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Savings target"))
    assert slider.label == "Savings target: 0%"
    rc.find(v.Btn, children=["Run 10 periods"]).widget.click()
    assert "Death spiral" not in status(rc)  # the same market with no savings target stays calm longer


def test_two_sessions_have_independent_models():
    _b1, rc1 = solara.render(Dashboard(), handle_error=False)
    _b2, rc2 = solara.render(Dashboard(), handle_error=False)
    rc1.find(v.Btn, children=["Run 10 periods"]).widget.click()
    assert "period 10" in status(rc1) and "not started" in status(rc2)


def test_pause_in_the_middle_of_a_period_lets_it_finish(monkeypatch):
    """Pause lands while a period is half computed: that period completes and the model can go on.

    (solara's default thread cancel raised inside Mesa's event loop here and froze the model.)
    """
    mid, resume, done = threading.Event(), threading.Event(), threading.Event()
    sims: list[Simulation] = []
    create, renew = Simulation.create.__func__, ProcurementModel.renew_contracts
    calls: list[int] = []

    def renew_and_wait_once(self, *args, **kwargs):
        if not sims or self is not sims[-1].models[0]:  # e.g. the probe that fixes the charts' axes
            return renew(self, *args, **kwargs)
        calls.append(self.period)
        if len(calls) != 3:
            return renew(self, *args, **kwargs)
        mid.set()
        assert resume.wait(10)
        try:
            return renew(self, *args, **kwargs)
        finally:
            done.set()

    monkeypatch.setattr(
        Simulation, "create", classmethod(lambda cls, *a, **k: sims.append(create(cls, *a, **k)) or sims[-1])
    )
    monkeypatch.setattr(ProcurementModel, "renew_contracts", renew_and_wait_once)
    _box, rc = solara.render(Dashboard(), handle_error=False)
    rc.find(v.Btn, children=["Play"]).widget.click()
    assert mid.wait(20)
    rc.find(v.Btn, children=["Pause"]).widget.click()  # while the third period is half done
    resume.set()
    assert done.wait(10)
    sim = sims[-1]
    with sim.lock:  # the period in flight has been published
        assert sim.models[0].period == sim.frames[0].period == 3
    sim.step(1)
    assert sim.models[0].period == sim.frames[0].period == 4
    assert len(sim.frames[0].series) == 4


def test_side_by_side_runs_both_strategies_on_the_same_seed():
    sim = Simulation.create("procurement_squeeze", seed=4, compare_with="hold")
    sim.step(40)
    concede, hold = sim.frames
    assert (concede.label, hold.label) == ("concede", "hold")
    assert concede.phase.key in ("spiral", "collapse") and hold.phase.key != "spiral"
    items = figures.panels(sim.frames, figures.ranges_from(sim.first), (0.4, 0.6), "EUR")
    svgs = figures.svgs(items, sim.periods, 4)
    assert all('stroke-dasharray="5 3"' in svg for svg in svgs)  # the second strategy is dashed everywhere


def test_phase_follows_the_documented_order():
    row = {
        "capability_index": 1.0,
        "discount_mean": 0.0,
        "investment": 1.0,
        "investment_desired": 1.0,
        "balance_smoothed": 0.5,
        "exits": 0,
        "relationships_ended": 0,
    }
    frame = pd.DataFrame([row] * 5)
    assert phase_of(frame, 4, (0.4, 0.6)) is PHASES["balanced"]
    creeping = frame.assign(discount_mean=[0.0, 0.0001, 0.0002, 0.0003, 0.0004])  # the baseline's creep: no story
    assert phase_of(creeping, 4, (0.4, 0.6)) is PHASES["balanced"]
    rising = frame.assign(discount_mean=[0.0, 0.01, 0.02, 0.03, 0.04])
    assert phase_of(rising, 4, (0.4, 0.6)) is PHASES["imbalance"]
    cutting = rising.assign(investment=[1.0, 1.0, 1.0, 1.0, 0.9])
    assert phase_of(cutting, 4, (0.4, 0.6)) is PHASES["cutting"]
    eroding = cutting.assign(capability_index=[1.0, 0.97, 0.94, 0.91, 0.88])
    assert phase_of(eroding, 4, (0.4, 0.6)) is PHASES["spiral"]
    assert phase_of(eroding.assign(exits=[0, 0, 0, 0, 1]), 4, (0.4, 0.6)) is PHASES["collapse"]


def y_range(rc, chart: str) -> tuple[str, str]:
    svg = next(t for t in html_of(rc) if f'data-chart="{chart}"' in t)
    return re.search(r'data-ymin="([^"]+)" data-ymax="([^"]+)"', svg).groups()


@pytest.mark.parametrize("seed", [42, 1, 2])
def test_the_balanced_baseline_reads_balanced_at_the_end_and_the_squeeze_reaches_the_spiral(seed):
    from sim import load_scenario
    from sim.runs.runner import simulate

    for name, expected in (("baseline", "balanced"), ("procurement_squeeze", "spiral")):
        scenario = load_scenario(name)
        ts = simulate(scenario, seed, record_agents_every=0).timeseries
        phase = phase_of(ts, scenario.market.contract_cycle, tuple(scenario.market.fair_band))
        assert phase is PHASES[expected], (name, seed, phase)


def test_default_seed_is_the_scenarios_as_on_the_command_line():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    seed = next(w for w in rc.find(v.TextField).widgets if w.label == "Seed")
    assert seed.v_model == "42"


def test_reset_goes_back_to_period_zero_after_the_last_period():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    field = next(w for w in rc.find(v.TextField).widgets if w.label == "Periods to run")
    field.v_model = "40"
    rc.find(v.Btn, children=["Run 40 periods"]).widget.click()
    assert "period 40 " in status(rc)
    assert rc.find(v.Btn, children=["Step"]).widget.disabled
    rc.find(v.Btn, children=["Reset (back to period 0)"]).widget.click()
    assert "not started" in status(rc)
    assert not rc.find(v.Btn, children=["Step"]).widget.disabled


def test_bad_seed_and_bad_period_count_are_messages_in_the_page():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    seed = next(w for w in rc.find(v.TextField).widgets if w.label == "Seed")
    for bad in ("-1", "abc", str(2**32)):
        seed.v_model = bad
        rc.find(v.Btn, children=["Setup (apply levers)"]).widget.click()
        alert = rc.find(v.Alert).widget
        assert "The seed must be" in alert.children[0]
    assert "not started" in status(rc)  # the market that was there is kept
    seed.v_model = "7"
    rc.find(v.Btn, children=["Setup (apply levers)"]).widget.click()
    assert not rc.find(v.Alert)
    field = next(w for w in rc.find(v.TextField).widgets if w.label == "Periods to run")
    field.v_model = "0"
    rc.find(v.Btn, children=["Run 0 periods"]).widget.click()
    assert "Periods to run must be" in rc.find(v.Alert).widget.children[0]
    assert "not started" in status(rc)


def test_axes_stand_still_while_the_market_plays():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    before = {c: y_range(rc, c) for c in ("discount", "capabilities", "cash", "value", "balance")}
    rc.find(v.Btn, children=["Step"]).widget.click()
    after_one = {c: y_range(rc, c) for c in before}
    rc.find(v.Btn, children=["Run 10 periods"]).widget.click()
    after_eleven = {c: y_range(rc, c) for c in before}
    assert before == after_one == after_eleven
    assert before["discount"] == ("0", "0.4") and float(before["value"][0]) == 0.0
    svg = next(t for t in html_of(rc) if 'data-chart="discount"' in t)
    assert ">10 years<" in svg  # x in years, the whole horizon


def test_controls_use_plain_words_not_code_names():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    shown = [str(x) for w in rc.find(v.Select).widgets for x in (w.items or [])] + [
        str(w.v_model) for w in rc.find(v.Select).widgets
    ]
    shown += [str(c) for w in rc.find(v.Btn).widgets for c in w.children if isinstance(c, str)]
    for code in ("value_trade", "cost_down", "boulware", "DISCOUNT", "HOLD"):
        assert not any(code in text for text in shown), code
    assert "Hold the price, explain its value" in shown


def test_exports_agree_with_the_series():
    sim = Simulation.create("procurement_squeeze", compare_with="hold")
    sim.step(8)
    items = figures.panels(sim.frames, figures.ranges_from(sim.first), (0.4, 0.6), "EUR")
    png = figures.png(items, sim.periods, 4, "EUR", "test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(io.StringIO(figures.csv(sim.frames, 4)))
    assert list(table["strategy"].unique()) == ["concede", "hold"] and len(table) == 16
    concede = table[table["strategy"] == "concede"]
    assert concede["discount_mean"].tolist() == pytest.approx(sim.frames[0].series["discount_mean"].tolist(), rel=1e-5)
    assert concede["year"].iloc[-1] == 2.0


def test_at_the_horizon_the_status_reads_the_verdict_with_its_outlook():
    """Model 2.0: the dashboard says in one sentence where the run is heading after the horizon."""
    from sim.dashboard.session import Simulation

    sim = Simulation.create("procurement_squeeze")
    assert sim.frames[0].outlook is None
    while sim.step(10):
        pass
    outlook = sim.frames[0].outlook
    assert outlook.startswith("In a death spiral for the 10 years shown") and "collapses" in outlook


# ---------------------------------------------------------------------------- what the page sends is checked


def select(rc, label: str):
    return next(w for w in rc.find(v.Select).widgets if str(w.label).startswith(label))


def alert(rc) -> str:
    found = rc.find(v.Alert)
    return " ".join(str(c) for w in found.widgets for c in w.children) if found else ""


def test_a_crafted_scenario_name_is_a_message_and_no_file_is_opened(monkeypatch):
    """Issue 19: a websocket update with Scenario = ../../../../etc/passwd made the server open that file."""
    import sim.dashboard.app as app
    import sim.dashboard.session as session

    opened = []
    for module in (app, session):
        real = module.load_scenario
        monkeypatch.setattr(
            module, "load_scenario", lambda name, *a, real=real, **k: opened.append(name) or real(name, *a, **k)
        )
    _box, rc = solara.render(Page(), handle_error=False)
    for crafted in ("../../../../etc/passwd", "/etc/passwd", "scenarios/../../x", 42, None, ["baseline"]):
        select(rc, "Scenario").v_model = crafted
        assert "Unknown scenario: choose one from the list" in alert(rc)
        assert "Traceback" not in " ".join(html_of(rc))
    assert not [name for name in opened if "passwd" in str(name) or "/" in str(name)]
    select(rc, "Scenario").v_model = "hold_the_line"  # a listed one still works
    assert not rc.find(v.Alert) and "procurement_squeeze" not in status(rc)
    rc.find(v.Btn, children=["Run 10 periods"]).widget.click()
    assert "period 10" in status(rc)


def test_an_unlisted_strategy_or_style_is_a_message_and_the_page_survives():
    _box, rc = solara.render(Page(), handle_error=False)
    select(rc, "Second strategy").v_model = "Bribe the buyer"
    assert "Second strategy: choose one from the list" in alert(rc)
    select(rc, "Procurement style").v_model = "<script>alert(1)</script>"
    assert "Procurement style: choose one from the list" in alert(rc)
    select(rc, "Supplier strategy").v_model = "played"  # a registered strategy, but not one the page offers
    assert "Supplier strategy: choose one from the list" in alert(rc)
    rc.find(v.Checkbox).widget.v_model = True
    rc.find(v.Btn, children=["Setup (apply levers)"]).widget.click()
    assert not rc.find(v.Alert)
    rc.find(v.Btn, children=["Run 10 periods"]).widget.click()
    assert len([t for t in html_of(rc) if "status-line" in t]) == 2  # both strategies ran: hold, the default second


@pytest.mark.parametrize("value", [5.0, -1.0, float("nan"), float("inf"), "abc", None, [0.1], True])
def test_a_lever_outside_its_range_is_a_message(value):
    _box, rc = solara.render(Page(), handle_error=False)
    slider = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Savings target"))
    slider.v_model = value
    assert "Savings target must be" in alert(rc)
    slider = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Savings target"))
    assert slider.label == "Savings target: 10%"  # the lever kept its value
    speed = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Speed"))
    speed.v_model = 10**9
    assert "The speed must be between 1 and 60" in alert(rc)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "period 1 " in status(rc)


def test_errors_name_no_file_on_the_server_and_no_traceback_reaches_the_page(monkeypatch):
    from sim.dashboard import checks
    from sim.errors import InputError

    text = checks.message(InputError("field x is wrong", source="/home/trainer/secret/scenarios/mine.yaml"))
    assert "/home" not in text and "mine.yaml" in text and "field x is wrong" in text
    assert "/srv" not in checks.message(OSError(2, "No such file", "/srv/data/x"))

    def broken(*_args, **_kwargs):
        raise RuntimeError("/usr/lib/python3/site-packages/secret.py exploded")

    _box, rc = solara.render(Page(), handle_error=False)
    monkeypatch.setattr(figures, "html_panels", broken)
    rc.find(v.Btn, children=["Step"]).widget.click()  # the next drawing of the page fails
    shown = alert(rc)
    assert "something went wrong (RuntimeError)" in shown and "/usr" not in shown and "Traceback" not in shown
    assert rc.find(v.Btn, children=["Start again"])


# ---------------------------------------------------------------------------- things to notice


def notice_items(rc) -> list[str]:
    page = next(t for t in html_of(rc) if t.startswith("<li>"))
    return re.findall(r"<li>(.*?)</li>", page)


def test_things_to_notice_before_play_tell_the_scenarios_setup_not_a_promise():
    """Issue 21: 'Things to notice' promised balance before Play on the squeeze scenario."""
    _box, rc = solara.render(Page(), handle_error=False)
    items = notice_items(rc)
    assert not any("green band" in item or "stays small" in item for item in items)
    assert any("savings target of 10%" in item for item in items) and any("Press Play" in item for item in items)


@pytest.mark.parametrize("name", ["procurement_squeeze", "hold_the_line", "baseline"])
def test_things_to_notice_say_only_what_the_series_shows(name):
    from sim.dashboard.notice import notices

    for seed in (1, 2):
        sim = Simulation.create(name, seed=seed)
        band = sim.scenario.market.fair_band
        for _ in range(4):
            sim.step(10)
            frame = sim.frames[0]
            last, first = frame.series.iloc[-1], frame.series.iloc[0]
            said = " ".join(notices(frame, sim.scenario))
            inside = band[0] <= last["balance_smoothed"] <= band[1]
            assert ("inside the green band" in said) == inside, (name, seed, frame.period)
            assert ("has left the green band" in said) == (not inside)
            assert ("margin fell" in said) == (last["supplier_margin"] < first["supplier_margin"] - 0.005)
            assert ("runs ahead of the discount" in said) == (last["demand_mean"] > last["discount_mean"] + 0.005)
            assert f"{last['discount_mean']:.1%}" in said


def test_the_series_csv_has_no_scientific_notation():
    sim = Simulation.create("procurement_squeeze")
    sim.step(40)
    text = figures.csv(sim.frames, 4)
    assert not re.search(r"\de[+-]?\d", text)
    table = pd.read_csv(io.StringIO(text))
    assert table["discount_mean"].tolist() == pytest.approx(sim.frames[0].series["discount_mean"].tolist())


def test_the_fastest_speed_steps_several_periods_a_page_update():
    from sim.dashboard.app import FRAMES_PER_SECOND
    from sim.dashboard.checks import MAX_SPEED

    assert MAX_SPEED >= 20 and -(-MAX_SPEED // FRAMES_PER_SECOND) > 1
    _box, rc = solara.render(Page(), handle_error=False)
    speed = next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Speed"))
    speed.v_model = MAX_SPEED
    assert next(s for s in rc.find(v.Slider).widgets if s.label.startswith("Speed")).label == "Speed: 60 periods/s"
