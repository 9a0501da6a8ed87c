"""The dashboard and game, server-side: rendered with solara.render() as Mesa's own tests do."""

from __future__ import annotations

import io
import threading

import pandas as pd
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
pytest.importorskip("solara.widgets")  # loads the submodule (solara.widgets.* below)

from sim.dashboard.app import Dashboard, Page, charts  # noqa: E402
from sim.dashboard.game import Game, NegotiationGame  # noqa: E402
from sim.dashboard.phase import PHASES, phase_of  # noqa: E402
from sim.dashboard.session import Simulation  # noqa: E402
from sim.model import ProcurementModel  # noqa: E402


def html_of(rc) -> list[str]:
    return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if w.unsafe_innerHTML]


def status(rc) -> str:
    return next(t for t in html_of(rc) if "status-line" in t)


def test_page_renders_with_both_tabs():
    _box, rc = solara.render(Page(), handle_error=False)
    assert rc.find(v.Tab, children=["Dashboard"]) and rc.find(v.Tab, children=["Negotiation game"])


def test_stepping_changes_readouts_status_and_charts():
    _box, rc = solara.render(Dashboard(), handle_error=False)
    before = html_of(rc)
    assert "not started" in status(rc)
    rc.find(v.Btn, children=["Run 10"]).widget.click()
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
    rc.find(v.Btn, children=["Run 10"]).widget.click()
    assert "Death spiral" not in status(rc)  # the same market with no savings target stays calm longer


def test_two_sessions_have_independent_models():
    _b1, rc1 = solara.render(Dashboard(), handle_error=False)
    _b2, rc2 = solara.render(Dashboard(), handle_error=False)
    rc1.find(v.Btn, children=["Run 10"]).widget.click()
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
    svgs = charts(sim.frames, sim.periods, (0.4, 0.6), "EUR")
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
    rising = frame.assign(discount_mean=[0.0, 0.01, 0.02, 0.03, 0.04])
    assert phase_of(rising, 4, (0.4, 0.6)) is PHASES["imbalance"]
    cutting = rising.assign(investment=[1.0, 1.0, 1.0, 1.0, 0.9])
    assert phase_of(cutting, 4, (0.4, 0.6)) is PHASES["cutting"]
    eroding = cutting.assign(capability_index=[1.0, 0.97, 0.94, 0.91, 0.88])
    assert phase_of(eroding, 4, (0.4, 0.6)) is PHASES["spiral"]
    assert phase_of(eroding.assign(exits=[0, 0, 0, 0, 1]), 4, (0.4, 0.6)) is PHASES["collapse"]


def test_a_full_game_reaches_the_debrief_and_exports(tmp_path):
    game = NegotiationGame.start("procurement_squeeze", rounds=3, seed=2)
    game.play_round(0.10, "discount", 0.04)
    game.play_round(0.15, "value_trade", 0.02)
    game.play_round(0.20, "hold")
    assert game.finished
    log = game.round_log()
    assert list(log["answer"]) == ["discount", "value_trade", "hold"]
    assert log["discount_after"].iloc[0] == pytest.approx(0.04, abs=1e-9)
    assert log["gift_value_after"].iloc[1] > 0 and log["discount_after"].iloc[2] == pytest.approx(0.04, abs=1e-9)
    totals = game.totals()
    assert totals.loc["supplier profit", "difference"] < 0  # conceding 4 points costs the supplier
    png, csv = game.export(tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pd.read_csv(csv)["round"].tolist() == [1, 2, 3]
    assert not list(tmp_path.glob(".*"))
    with pytest.raises(ValueError, match="over"):
        game.play_round(0.1, "hold")


def test_the_game_page_plays_rounds_to_the_debrief():
    _box, rc = solara.render(Game(), handle_error=False)
    rounds = next(w for w in rc.find(v.TextField).widgets if w.label.startswith("Rounds"))
    rounds.v_model = "2"
    rc.find(v.Btn, children=["Start new game"]).widget.click()
    for expected in ("Round 1 of 2", "Round 2 of 2"):
        assert rc.find(v.CardTitle, children=[expected])
        rc.find(v.Btn, children=["Play round"]).widget.click()
    assert rc.find(v.CardTitle, children=["Debrief"])
    assert any("round-log" in t for t in html_of(rc))


def test_the_game_starts_with_the_facilitators_scenario_and_rounds():
    """`procsim game hold_the_line --rounds 2` opens on that game."""
    _box, rc = solara.render(Game("hold_the_line", 2), handle_error=False)
    assert rc.find(v.CardTitle, children=["Round 1 of 2"])
    assert rc.find(v.Select, label="Scenario").widget.v_model == "hold_the_line"
    assert next(w for w in rc.find(v.TextField).widgets if w.label.startswith("Rounds")).v_model == "2"


def test_bad_game_input_is_a_message_not_a_crash():
    with pytest.raises(ValueError, match="rounds"):
        NegotiationGame.start("procurement_squeeze", rounds=0)
    game = NegotiationGame.start("procurement_squeeze", rounds=1)
    with pytest.raises(ValueError, match="answer"):
        game.play_round(0.1, "bribe", 0.1)
    assert game.round == 0
    buffer = io.StringIO(game.csv())
    assert list(pd.read_csv(buffer).columns)[:4] == ["round", "first_period", "demand", "answer"]
