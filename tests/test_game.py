"""The room game: sessions, rounds, the timer, what each role is sent, the debrief and its exports.

The API tests talk to a real uvicorn server that the test starts on 127.0.0.1 (a free
port, bounded requests with a timeout); the browser tests are in test_browser.py.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")

from sim.cli import main  # noqa: E402
from sim.engine.model import ProcurementModel  # noqa: E402
from sim.game import debrief  # noqa: E402
from sim.game.codes import ALPHABET, CODE_PATTERN, new_code, normalise_code  # noqa: E402
from sim.game.registry import Registry  # noqa: E402
from sim.game.session import Session  # noqa: E402
from sim.game.settings import Settings  # noqa: E402
from sim.game.table import ROLES, GameError, game_scenario  # noqa: E402
from sim.reports.pages import money  # noqa: E402

from .servers import GameAPI, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
XSS = "<img src=x onerror=__x=1>"  # a team name (at most 40 characters) that must never run


class Clock:
    """A clock the test moves by hand (the round timer reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def seated(settings: Settings | None = None, clock=None) -> tuple[Session, list]:
    """A session whose every table has both teams (joined by their seats' links); returns it with the devices."""
    registry = Registry(clock=clock or Clock())
    session = registry.create(settings or Settings(rounds=3, tables=2, timer=0))
    players = []
    for t in range(len(session.tables)):
        for role in ROLES:
            _token, player, _created = session.join(session.seats.seat(t, role).key, f"{role[:4]} {t + 1}")
            players.append(player)
    return session, players


# ---------------------------------------------------------------------------- codes


def test_session_codes_are_short_and_unambiguous():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE_PATTERN.match(c) and len(c) == 6 for c in codes)
    assert not set("0O1IL2Z5S8B6GQ") & set(ALPHABET)
    assert normalise_code(" pe4-97x ") == "PE497X"


# ---------------------------------------------------------------------------- one engine


MOVES = [  # (table 1 demand, answer, points), (table 2 ...) per round
    [(0.10, "discount", 0.04), (0.12, "hold", 0.0)],
    [(0.15, "value_trade", 0.03), None],  # table 2 misses round 2: both moves repeat round 1's
    [(0.20, "hold", 0.0), (0.05, "discount", 0.02)],
]


def play_moves(session: Session, players: list) -> None:
    session.start()
    for round_moves in MOVES:
        for t, move in enumerate(round_moves):
            if move is None:
                continue
            demand, answer, points = move
            session.submit(players[2 * t], {"demand": demand})
            session.submit(players[2 * t + 1], {"answer": answer, "points": points})
        if session.state == "running" and session.round == MOVES.index(round_moves) + 1:
            session.end_round()


def reference(moves: list[tuple[float, str, float]], rounds: int = 3, seed: int = 42) -> pd.DataFrame:
    """ProcurementModel run directly with the same moves, as a simulation would be."""
    model = ProcurementModel(game_scenario("procurement_squeeze", rounds), rng=seed, record_agents_every=0)
    for demand, answer, points in moves:
        model.strategies["played"].decide(answer, points)
        model.demand_override = demand
        for _ in range(model.cycle):
            model.step()
    return model.recorder.timeseries()


def test_a_tables_figures_are_procurement_model_run_with_the_same_moves():
    session, players = seated()
    play_moves(session, players)
    assert session.state == "finished"
    expected = {
        0: [MOVES[0][0], MOVES[1][0], MOVES[2][0]],
        1: [MOVES[0][1], MOVES[0][1], MOVES[2][1]],  # the missed round repeated round 1's moves
    }
    session.reveal()
    rows = debrief.round_rows(session)
    for t, moves in expected.items():
        table = session.tables[t]
        ts = reference(moves)
        served = table.model.recorder.timeseries()
        pd.testing.assert_frame_equal(served, ts)
        log = rows[rows["table"] == t + 1]
        assert log["demand"].tolist() == [m[0] for m in moves]
        assert log["answer"].tolist() == [m[1] for m in moves]
        for r, row in enumerate(log.itertuples()):
            part = ts[(ts["period"] >= 4 * r) & (ts["period"] < 4 * (r + 1))]
            assert row.customer_value == pytest.approx(part["customer_value"].sum(), rel=1e-12)
            assert row.supplier_profit == pytest.approx(part["supplier_profit"].sum(), rel=1e-12)
            assert row.supplier_value == pytest.approx(part["supplier_value"].sum(), rel=1e-12)
            assert row.discount_after == pytest.approx(part["discount_mean"].iloc[-1], rel=1e-12)
        assert log["demand_repeated"].tolist() == ([False, True, False] if t == 1 else [False] * 3)
    # the facilitator's console shows the same totals, formatted
    view = json.loads(debrief_view_bytes(session))
    board = {row[0]: row for row in view["leaderboard"]["rows"]}
    ts = reference(expected[0])
    assert board["Table 1"][1] == money(float(ts["joint_value"].sum()), "EUR")
    assert board["Table 1"][5] == money(float(ts["supplier_profit"].sum()), "EUR")


def debrief_view_bytes(session: Session) -> bytes:
    from sim.game.views import facilitator_view

    return facilitator_view(session)


def test_the_balanced_policy_is_the_same_market_holding_its_price():
    session, _players = seated(Settings(rounds=2, tables=1, timer=0))
    session.start()
    session.end_round()
    session.end_round()  # nobody moved: procurement asks nothing more, the supplier holds
    session.reveal()
    balanced = session.balanced()
    played = session.tables[0].series()
    assert len(balanced) == 8 and np.allclose(played["joint_value"], balanced["joint_value"])


# ---------------------------------------------------------------------------- rounds and the timer


def test_a_round_runs_when_both_teams_are_in_and_the_next_opens_when_every_table_played():
    session, players = seated()
    session.start()
    session.submit(players[0], {"demand": 0.1})
    assert session.tables[0].rounds_played == 0
    session.submit(players[1], {"answer": "discount", "points": 0.02})
    assert session.tables[0].rounds_played == 1 and session.round == 1  # table 2 has not played
    with pytest.raises(GameError, match="wait for the other tables"):
        session.submit(players[0], {"demand": 0.1})
    session.submit(players[2], {"demand": 0.1})
    session.submit(players[3], {"answer": "hold"})
    assert session.round == 2 and all(t.rounds_played == 1 for t in session.tables)


def test_the_timer_settles_the_round_with_missing_moves_repeated_and_pause_freezes_it():
    clock = Clock()
    session, players = seated(Settings(rounds=3, tables=2, timer=60), clock)
    session.start()
    session.submit(players[0], {"demand": 0.2})
    session.submit(players[1], {"answer": "discount", "points": 0.05})
    clock.now += 59
    session.tick()
    assert session.round == 1
    clock.now += 2
    session.tick()  # time is up: table 2 plays with no new demand and a held price
    assert session.round == 2 and session.tables[1].log[0]["answer"] == "hold"
    assert session.remaining() == pytest.approx(60)
    clock.now += 20
    session.pause()
    clock.now += 500
    assert session.remaining() == pytest.approx(40)
    with pytest.raises(GameError, match="paused"):
        session.submit(players[0], {"demand": 0.2})
    session.tick()
    assert session.round == 2
    session.resume()
    clock.now += 41
    session.tick()  # table 1 repeats its last moves
    log = session.tables[0].log[-1]
    assert session.round == 3 and (log["demand"], log["answer"], log["points"]) == (0.2, "discount", 0.05)
    assert log["demand_repeated"] and log["answer_repeated"]


def test_the_supplier_answers_only_after_the_demand_and_within_it():
    session, players = seated()
    session.start()
    with pytest.raises(GameError, match="has not made its demand"):
        session.submit(players[1], {"answer": "discount", "points": 0.02})
    session.submit(players[0], {"demand": 0.03})
    with pytest.raises(GameError, match=r"between 0 and 3\.0%"):
        session.submit(players[1], {"answer": "discount", "points": 0.05})
    with pytest.raises(GameError, match="choose one of the three answers"):
        session.submit(players[1], {"answer": "DISCOUNT", "points": 0.01})
    with pytest.raises(GameError, match="already in"):
        session.submit(players[0], {"demand": 0.05})
    session.submit(players[1], {"answer": "discount", "points": 0.03})
    assert session.tables[0].log[0]["discount_after"] == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rounds": 0}, "rounds"),
        ({"rounds": "six"}, "rounds"),
        ({"tables": 21}, "tables"),
        ({"timer": -1}, "timer"),
        ({"seed": 2**32}, "seed"),
        ({"scenario": "../../etc/passwd"}, "scenario"),
        ({"tables": 2, "table_names": "A, B, C"}, "table_names"),
        ({"table_names": "A, A"}, "table_names"),
        ({"table_names": "x" * 41}, "table_names"),
    ],
)
def test_bad_settings_name_their_field(data, field):
    with pytest.raises(GameError) as info:
        Settings.parse(data)
    assert info.value.field == field


def test_team_names_are_checked_and_a_seat_can_have_several_devices():
    registry = Registry()
    session = registry.create(Settings(tables=2, timer=0))
    key = session.seats.seat(0, "procurement").key
    with pytest.raises(GameError, match="give a team name"):
        session.join(key, "   ")
    with pytest.raises(GameError, match="too long"):
        session.join(key, "x" * 41)
    with pytest.raises(GameError, match="control characters"):
        session.join(key, "a\x00b")
    with pytest.raises(GameError, match="procurement or supplier"):
        session.ask(1, "buyer", "A")
    with pytest.raises(GameError, match="between 1 and 2"):
        session.ask(3, "supplier", "A")
    session.join(key, "  The   Buyers ")
    with pytest.raises(GameError, match="already called"):
        session.join(session.seats.seat(1, "supplier").key, "the buyers")
    _token, player, created = session.join(key, "ignored")
    assert not created and session.tables[0].teams["procurement"] == "The Buyers" and player.table == 0


def test_settings_change_in_the_lobby_only_and_keep_seated_tables():
    session, _players = seated(Settings(tables=3, timer=0))
    with pytest.raises(GameError, match="keep at least 3 tables"):
        session.configure(Settings(tables=2))
    session.configure(Settings(tables=4, rounds=2, table_names=("North",)))
    assert [t.name for t in session.tables] == ["North", "Table 2", "Table 3", "Table 4"]
    assert session.tables[0].teams["procurement"] == "proc 1" and session.periods == 8
    session.start()
    with pytest.raises(GameError, match="only change in the lobby"):
        session.configure(Settings())


# ---------------------------------------------------------------------------- the live API


@pytest.fixture
def live(tmp_path):
    server = GameAPI(tmp_path / "exports")
    yield server
    server.stop()


SUPPLIER_ONLY = ("margin", "capabilit", "your cash", "supplier_cash", "investment", "profit", "outlook")
PROCUREMENT_ONLY = ("perceive", "savings", "own sales", "customer_value", "p-value")


def test_each_role_is_sent_only_its_own_side(live):
    buyer = live.join(1, "procurement", "Buyers")
    seller = live.join(1, "supplier", "Sellers")
    assert live.call("/api/facilitator/action", {"action": "start"}, live.key)[0] == 200
    _s, before, raw_before = live.call("/api/me", headers=seller)
    assert before["view"]["demand"] is None and "0.137" not in raw_before.decode()
    _s, procurement, raw_p = live.call("/api/me", headers=buyer)
    text = raw_p.decode().lower()
    assert not [w for w in SUPPLIER_ONLY if w in text]
    assert "alanced" not in text and "alanced" not in raw_before.decode().lower()
    assert live.call("/api/move", {"demand": 0.137}, buyer)[0] == 200
    _s, after, raw_after = live.call("/api/me", headers=seller)
    assert after["view"]["demand"] == pytest.approx(0.137)
    text = raw_after.decode().lower()
    assert not [w for w in PROCUREMENT_ONLY if w in text]
    assert "alanced" not in text
    status, result, _ = live.call("/api/move", {"answer": "value_trade", "points": 0.02}, seller)
    assert status == 200 and result["view"]["rounds_played"] == 1
    # procurement sees the supplier's answer once the round is played, still not the supplier's figures
    _s, procurement, raw_p = live.call("/api/me", headers=buyer)
    assert procurement["view"]["history"]["rows"][0][2] == "Add service instead of a discount"
    assert not [w for w in SUPPLIER_ONLY if w in raw_p.decode().lower()]
    _s, console, raw_c = live.call("/api/facilitator", headers=live.key)
    assert "alanced" not in raw_c.decode().lower() and console["view"]["debrief"] is None


def test_polls_get_a_view_only_when_something_changed(live):
    buyer = live.join(1, "procurement", "Buyers")
    _s, first, _ = live.call("/api/me", headers=buyer)
    _s, again, raw = live.call(f"/api/me?since={first['version']}", headers=buyer)
    assert "view" not in again and len(raw) < 60
    live.join(2, "supplier", "Other")
    _s, changed, _ = live.call(f"/api/me?since={first['version']}", headers=buyer)
    assert changed["version"] > first["version"] and "view" in changed


def test_bad_requests_are_one_clear_message(live):
    status, data, _ = live.call("/api/join", {"code": "ZZZZZZ", "table": 1, "role": "supplier", "team": "x"})
    assert status == 404 and "no game has this code" in data["error"]
    assert live.call("/api/session/" + live.session.code.lower())[0] == 200
    assert live.call("/api/session/not-a-code")[0] == 404
    assert live.call("/api/join", raw=b"{not json")[1]["error"] == "the request is not valid JSON"
    assert live.call("/api/join", raw=b"x" * 20_000)[0] == 413
    nested = b"[" * 5000 + b"]" * 5000
    status, data, _ = live.call("/api/join", raw=nested)
    assert status == 400 and "nested too deeply" in data["error"]
    status, data, _ = live.call("/api/join", raw=b'{"code": 1}', headers={"Content-Type": "text/plain"})
    assert status == 415 and "JSON" in data["error"]
    assert live.call("/api/me")[0] == 401
    assert live.call("/api/me", headers={"X-Player-Token": "forged"})[0] == 401
    assert live.call("/api/facilitator", headers={"X-Facilitator-Key": "wrong"})[0] == 403
    assert live.call("/api/facilitator")[0] == 403
    buyer = live.join(1, "procurement", "Buyers")
    status, data, _ = live.call("/api/move", {"demand": 0.1}, buyer)
    assert status == 409 and data["error"] == "the game has not started yet"
    live.call("/api/facilitator/action", {"action": "start"}, live.key)
    status, data, _ = live.call("/api/move", {"demand": "lots"}, buyer)
    assert status == 400 and data["field"] == "demand"
    status, data, _ = live.call("/api/move", {"demand": 0.9}, buyer)
    assert status == 400 and "between 0% and 60%" in data["error"]
    status, data, _ = live.call("/api/facilitator/action", {"action": "explode"}, live.key)
    assert status == 400 and data["field"] == "action"
    status, data, _ = live.call("/api/facilitator/settings", {"rounds": 3}, live.key)
    assert status == 409 and "lobby" in data["error"]
    status, data, _ = live.call("/api/facilitator/file/rounds.csv", headers=live.key)
    assert status == 409


def test_guessing_codes_is_throttled(live):
    for _ in range(20):
        assert live.call("/api/session/ACDEFH")[0] == 404
    assert live.call("/api/session/ACDEFH")[0] == 429
    assert live.call("/api/session/" + live.session.code)[0] == 429  # for a minute, from this address


def test_pages_are_served_with_a_strict_content_security_policy(live):
    request = urllib.request.Request(live.base + "/")
    with urllib.request.urlopen(request, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "<script>" not in page and 'src="/static/player.js"' in page
    assert live.call("/static/player.js")[0] == 200


def test_debrief_export_writes_every_file_at_once_and_they_agree(live, tmp_path):
    buyer = live.join(1, "procurement", XSS)
    seller = live.join(1, "supplier", "Sellers")
    status, data, _ = live.call("/api/facilitator/action", {"action": "reveal"}, live.key)
    assert status == 409 and "at least one round" in data["error"]
    live.call("/api/facilitator/action", {"action": "start"}, live.key)
    for demand, answer, points in ((0.1, "discount", 0.03), (0.14, "discount", 0.04)):
        live.call("/api/move", {"demand": demand}, buyer)
        live.call("/api/move", {"answer": answer, "points": points}, seller)
        live.call("/api/facilitator/action", {"action": "end_round"}, live.key)
    status, console, _ = live.call("/api/facilitator/action", {"action": "reveal"}, live.key)
    assert status == 200 and console["view"]["state"] == "debrief"
    d = console["view"]["debrief"]
    assert [row[1] for row in d["ranking"]["rows"]][-1] == "Balanced policy"
    assert {row[1].split(" (")[0] for row in d["ranking"]["rows"][:-1]} == {"Table 1", "Table 2"}
    assert f"Table 1 ({XSS} / Sellers)" in [row[1] for row in d["ranking"]["rows"]]
    for chart in d["charts"]:  # every axis includes zero (starts at it, or below when a value is negative)
        low, high = (float(v) for v in re.search(r'data-ymin="([^"]+)" data-ymax="([^"]+)"', chart["svg"]).groups())
        assert low <= 0 < high, (chart["id"], low, high)
    status, data, _ = live.call("/api/facilitator/export", {}, live.key)
    assert status == 200, data
    folder = Path(data["folder"])
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [f"chart-{s.id}.png" for s in debrief.chart_specs("EUR")] + ["rounds.csv", "debrief.html", "manifest.json"]
    )
    assert not list(folder.parent.glob(".*"))  # nothing half-written beside it
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rounds = pd.read_csv(folder / "rounds.csv", keep_default_na=False)
    assert len(rounds) == 4 and rounds["table_name"].tolist() == ["Table 1", "Table 1", "Table 2", "Table 2"]
    assert rounds["procurement_team"].iloc[0] == XSS
    log = live.session.tables[0].log
    assert rounds["customer_value"].iloc[:2].tolist() == pytest.approx([r["customer_value"] for r in log], rel=1e-5)
    assert rounds["points"].iloc[:2].tolist() == [0.03, 0.04]
    handout = (folder / "debrief.html").read_text()
    assert XSS not in handout and html_escaped(XSS) in handout and "<img" not in handout
    assert "Content-Security-Policy" in handout and "script-src" not in handout  # default-src 'none': no script
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["session"] == live.session.code and manifest["seed"] == 42
    # the downloads are the same files, made in memory
    status, _d, csv_bytes = live.call("/api/facilitator/file/rounds.csv", headers=live.key)
    assert status == 200 and csv_bytes == (folder / "rounds.csv").read_bytes()
    assert live.call("/api/facilitator/file/secrets.txt", headers=live.key)[0] == 404
    status, _d, page = live.call("/api/handout", headers=buyer)
    assert status == 200 and page == (folder / "debrief.html").read_bytes()
    # players now get the debrief and their hidden variables
    _s, after, raw = live.call("/api/me", headers=buyer)
    assert after["view"]["debrief"]["questions"][0].startswith("When did the supplier")
    assert "alanced" in raw.decode()


def html_escaped(text: str) -> str:
    import html

    return html.escape(text)


def test_the_debrief_questions_are_the_guides():
    guide = (ROOT / "docs" / "workshop.md").read_text()
    for question in debrief.QUESTIONS:
        assert question in guide, question


# ---------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("command", ["game", "dashboard"])
def test_a_port_in_use_is_refused_with_another_suggested(command, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main([command, "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is already in use" in err and f"--port {port + 1}" in err and err.count("\n") == 1


def test_bad_game_options_exit_with_code_2(capsys):
    for args, text in (
        (["game", "--tables", "0"], "--tables: must be at least 1"),
        (["game", "--tables", "21"], "--tables: must be between 1 and 20"),
        (["game", "--timer", "soon"], "--timer: expected a whole number of seconds"),
        (["game", "--seed", "-3"], "--seed: must be between 0"),
    ):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2 and text in capsys.readouterr().err
    assert main(["game", "--host", "203.0.113.7", "--port", str(free_port())]) == 2
    assert "not an address of this machine" in capsys.readouterr().err


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.2)  # polling the server's readiness


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``port`` (a connection the server closed may linger in TIME_WAIT: no conflict,
    as for the servers themselves, which bind with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "stop"),
    [("game", signal.SIGTERM), ("game", signal.SIGINT), ("dashboard", signal.SIGTERM), ("dashboard", signal.SIGINT)],
    ids=["game-sigterm", "game-ctrl-c", "dashboard-sigterm", "dashboard-ctrl-c"],
)
def test_sigterm_and_ctrl_c_stop_the_server_and_everything_it_started(command, stop, tmp_path):
    """SIGINT is what Ctrl-C sends to the terminal's foreground process (solara has its own group)."""
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        extra = ["--data", str(tmp_path / "data")] if command == "game" else []
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", command, "--port", str(port), *extra],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/", proc, log)
            children = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            proc.send_signal(stop)
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    deadline = time.monotonic() + 10
    while not port_is_free(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert port_is_free(port), log.read_text()
    assert code == (143 if stop == signal.SIGTERM else 130), log.read_text()  # as the README promises
    assert "Traceback" not in log.read_text()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    if command == "game":
        text = log.read_text()
        assert re.search(r"session code [A-Z0-9]{6}", text) and "facilitator#key=" in text
        assert text.count("key=") == 1
