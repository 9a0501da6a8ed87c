"""The room game for a real room: seats that belong to their devices, bots, a practice round, undo, saved rooms.

Without a browser: the session's rules directly, and a live server on 127.0.0.1 (run by the
test, bounded requests with a timeout) for what only HTTP can show (cookies, bodies, tokens).
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from sim.cli import main
from sim.game import bots, briefing, debrief, views
from sim.game.registry import Registry
from sim.game.seats import JOINS_PER_SEAT, MAX_DEVICES_PER_SEAT
from sim.game.session import Session
from sim.game.settings import Settings
from sim.game.store import Store
from sim.game.table import ROLES, GameError, Table, game_scenario

from .servers import GameAPI, free_port
from .test_game import Clock, reference, seated

ROOT = Path(__file__).resolve().parent.parent


def tokens_of(session: Session) -> dict[tuple[int, str], str]:
    """Seat one device at every seat by its link; its token by (table 0-based, role)."""
    out = {}
    for t in range(len(session.tables)):
        for role in ROLES:
            out[(t, role)] = session.join(session.seats.seat(t, role).key, f"{role} {t + 1}")[0]
    return out


# ---------------------------------------------------------------------------- seats


def test_a_seat_link_seats_at_once_and_the_room_code_alone_waits_for_approval():
    session = Registry().create(Settings(tables=2, timer=0))
    token, device, created = session.join(session.seats.seat(0, "supplier").key, "Sellers")
    assert created and session.device(token) is device and (device.table, device.role) == (0, "supplier")
    with pytest.raises(GameError, match="not valid") as info:
        session.join("a-guessed-seat-secret", "Thieves")
    assert info.value.status == 403
    asking, waiting = session.ask(2, "procurement", "Buyers")
    with pytest.raises(GameError, match="not approved") as info:
        session.device(asking)
    assert info.value.status == 403 and session.tables[1].teams["procurement"] is None
    refused, other = session.ask(2, "supplier", "Maybe")
    session.refuse(other.request)
    with pytest.raises(GameError, match="did not approve"):
        session.device(refused)
    session.approve(waiting.request)
    assert session.device(asking).status == "seated" and session.tables[1].teams["procurement"] == "Buyers"


def test_a_device_acts_only_for_its_own_team_and_table():
    session, _devices = seated(Settings(rounds=2, tables=2, timer=0))
    tokens = {}
    for t in range(2):
        for role in ROLES:
            tokens[(t, role)] = session.join(session.seats.seat(t, role).key, "ignored")[0]
    session.start()
    buyer1 = session.device(tokens[(0, "procurement")])
    for move, field in (
        ({"table": 2, "demand": 0.1}, "table"),
        ({"role": "supplier", "answer": "hold"}, "role"),
        ({"table": 2, "role": "procurement", "demand": 0.1}, "table"),
    ):
        with pytest.raises(GameError) as info:
            session.submit(buyer1, move)
        assert info.value.status == 403 and info.value.field == field
    assert all(t.demand is None and t.answer is None for t in session.tables)
    session.submit(buyer1, {"table": 1, "role": "procurement", "demand": 0.1})  # naming its own seat is fine
    assert session.tables[0].demand == pytest.approx(0.1) and session.tables[1].demand is None


def test_reassign_drops_the_seats_devices_and_changes_its_link():
    session = Registry().create(Settings(tables=1, timer=0))
    old_key = session.seats.seat(0, "procurement").key
    token = session.join(old_key, "Buyers")[0]
    session.reassign(1, "procurement")
    with pytest.raises(GameError, match="given to another device") as info:
        session.device(token)
    assert info.value.status == 401
    with pytest.raises(GameError, match="not valid"):
        session.join(old_key, "Again")
    new_token = session.join(session.seats.seat(0, "procurement").key, "New buyers")[0]
    assert session.device(new_token).role == "procurement" and session.tables[0].teams["procurement"] == "New buyers"


def test_devices_per_seat_and_joins_per_room_are_capped():
    session = Registry().create(Settings(tables=1, timer=0))
    key = session.seats.seat(0, "supplier").key
    for _ in range(MAX_DEVICES_PER_SEAT):
        session.join(key, "Sellers")
    with pytest.raises(GameError, match="already plays on") as info:
        session.join(key, "Sellers")
    assert info.value.status == 429
    for _ in range(JOINS_PER_SEAT * 2 - MAX_DEVICES_PER_SEAT):
        try:
            session.ask(1, "procurement", "Buyers")
        except GameError as exc:  # the waiting list fills up before the joins do
            assert exc.status == 429
            break
    refusals = 0
    for _ in range(3 * JOINS_PER_SEAT):
        try:
            session.ask(1, "procurement", "Buyers")
        except GameError as exc:
            assert exc.status == 429
            refusals += 1
    assert refusals == 3 * JOINS_PER_SEAT and session.seats.joins <= JOINS_PER_SEAT * 2


# ---------------------------------------------------------------------------- move forms


def test_limits_are_what_people_type():
    """A concession limit of 4.999999999999999% is shown and accepted as 5.0%, and applied exactly."""
    session, devices = seated(Settings(rounds=3, tables=1, timer=0))
    session.start()
    session.submit(devices[0], {"demand": 0.07})
    session.submit(devices[1], {"answer": "discount", "points": 0.07})
    table = session.tables[0]
    session.submit(devices[0], {"demand": 0.12})
    gap = table.gap(0.12)
    assert gap < 0.05 and abs(gap - 0.05) < 1e-12  # the floating-point limit the issue reported
    view = json.loads(views.player_view(session, devices[1]))
    assert view["gap_typed"] == 5.0 and "up to 5.0% more" in view["sentence"]
    with pytest.raises(GameError, match=r"between 0 and 5\.0%"):
        session.submit(devices[1], {"answer": "discount", "points": 0.0506})
    session.submit(devices[1], {"answer": "discount", "points": 0.05})
    assert table.log[-1]["points"] == pytest.approx(gap, abs=1e-15)


def test_service_and_discount_are_told_together_and_nothing_contradicts_what_is_in_force():
    """After 8 points of service, a demand of 8% leaves nothing to concede: only Hold is offered."""
    session, devices = seated(Settings(rounds=3, tables=1, timer=0))
    session.start()
    session.submit(devices[0], {"demand": 0.08})
    session.submit(devices[1], {"answer": "value_trade", "points": 0.08})
    session.submit(devices[0], {"demand": 0.08})
    from sim.game.views import player_view

    view = json.loads(player_view(session, devices[1]))
    assert "0.0% discount + 8.0% added service" in view["sentence"]
    assert "nothing more to concede" in view["sentence"] and view["gap_typed"] == 0.0
    assert [a["enabled"] for a in view["answers"]] == [False, False, True]  # discount, service, hold
    with pytest.raises(GameError, match="hold the price"):
        session.submit(devices[1], {"answer": "discount", "points": 0.0})
    buyer = json.loads(player_view(session, devices[0]))
    assert "8.0% off list price (0.0% discount + 8.0% added service)" in buyer["sentence"]


def test_each_role_gets_a_briefing_in_the_lobby_only():
    session, devices = seated(Settings(rounds=2, tables=1, timer=0))
    from sim.game.views import player_view

    buyer, seller = (json.loads(player_view(session, d)) for d in devices)
    assert buyer["briefing"] == list(briefing.BRIEFING["procurement"])
    assert seller["briefing"] == list(briefing.BRIEFING["supplier"])
    assert "margin" not in " ".join(buyer["briefing"]).split("do not see")[0]
    session.start()
    assert json.loads(player_view(session, devices[0]))["briefing"] is None


# ---------------------------------------------------------------------------- bots


def test_a_supplier_bot_is_the_engine_strategy_and_a_procurement_bot_its_style():
    session, _devices = seated(Settings(rounds=3, tables=2, timer=0))
    session.reassign(2, "supplier")
    session.reassign(2, "procurement")
    session.set_bot(2, "supplier", "hold")
    session.set_bot(2, "procurement", "cost_down")
    assert session.tables[1].teams == {"procurement": "Bot (cost down)", "supplier": "Bot (hold)"}
    fresh = Table(1, "x", session.scenario, session.seed)
    expected_demand = bots.procurement_demand(fresh, "cost_down", session.scenario)
    # the style's own formula: a cost-down buyer with a savings target asks for more than a value-based one
    assert expected_demand > bots.procurement_demand(fresh, "value_based", session.scenario) >= 0.0
    session.start()
    assert session.tables[1].rounds_played == 1  # both bots moved at once
    row = session.tables[1].log[0]
    assert row["demand"] == pytest.approx(expected_demand) and row["demand_bot"] == "cost_down"
    assert row["answer"] == "bot:hold" and row["points"] == 0.0
    # a held price by the bot settles exactly as a human's Hold
    human = Table(0, "h", session.scenario, session.seed)
    human.submit_demand(row["demand"])
    human.submit_answer("hold")
    human.play()
    pd.testing.assert_frame_equal(human.series(), session.tables[1].series())
    with pytest.raises(GameError, match="a team plays this seat"):
        session.set_bot(1, "supplier", "concede")
    with pytest.raises(GameError, match="choose one of"):
        session.set_bot(2, "supplier", "played")


def test_a_room_of_bots_plays_itself_and_concedes_as_its_strategies_do():
    session = Registry().create(Settings(rounds=3, tables=2, timer=0))
    for table, strategy in ((1, "concede"), (2, "hold")):
        session.set_bot(table, "procurement", "cost_down")
        session.set_bot(table, "supplier", strategy)
    session.start()
    assert session.state == "finished" and all(t.rounds_played == 3 for t in session.tables)
    conceded = [r["points"] for r in session.tables[0].log]
    held = [r["points"] for r in session.tables[1].log]
    assert sum(conceded) > 0 and held == [0.0, 0.0, 0.0]
    rows = pd.read_csv(io.StringIO(debrief.rounds_csv(session)))
    assert set(rows["answer"]) == {"bot:concede", "bot:hold"}


# ---------------------------------------------------------------------------- practice and undo


def test_the_practice_round_does_not_count():
    session, devices = seated(Settings(rounds=2, tables=2, timer=0))
    session.start(practice=True)
    assert session.practice and session.round == 1
    session.submit(devices[0], {"demand": 0.3})
    session.submit(devices[1], {"answer": "discount", "points": 0.1})
    session.end_round()  # table 2 plays with no moves
    assert session.state == "lobby" and session.practiced and not session.practice
    assert all(t.rounds_played == 0 and t.model.period == 0 for t in session.tables)
    assert session.tables[0].practice_log[0]["points"] == pytest.approx(0.1)
    with pytest.raises(GameError, match="at least one round"):
        session.reveal()
    session.start()
    session.submit(devices[0], {"demand": 0.1})
    session.submit(devices[1], {"answer": "discount", "points": 0.04})
    pd.testing.assert_frame_equal(
        session.tables[0].model.recorder.timeseries(), reference([(0.1, "discount", 0.04)], rounds=2).iloc[:4]
    )


def test_end_round_and_reveal_can_be_undone_until_the_next_move():
    clock = Clock()
    session, devices = seated(Settings(rounds=3, tables=2, timer=120), clock)
    session.start()
    session.submit(devices[0], {"demand": 0.1})
    session.submit(devices[1], {"answer": "discount", "points": 0.03})
    session.submit(devices[2], {"demand": 0.2})  # table 2's supplier has not answered
    clock.now += 50
    before = session.tables[1].series().copy()
    session.end_round()
    assert session.round == 2 and session.tables[1].rounds_played == 1 and session.undo["label"] == "End round 1"
    assert session.undo_last() == "End round 1"
    assert session.round == 1 and session.tables[1].rounds_played == 0 and session.tables[1].demand == 0.2
    assert session.tables[0].rounds_played == 1 and session.remaining() == pytest.approx(70)
    pd.testing.assert_frame_equal(before, session.tables[1].series())
    session.submit(devices[3], {"answer": "hold"})
    assert session.round == 2
    session.end_round()
    session.submit(devices[0], {"demand": 0.1})  # a move: End round can no longer be undone
    with pytest.raises(GameError, match="nothing to undo"):
        session.undo_last()
    session.end_round()
    session.reveal()
    assert session.state == "debrief"
    session.undo_last()
    assert session.state == "finished"


def test_undoing_end_round_also_takes_back_what_bots_played_after_it():
    session = Registry(clock=Clock()).create(Settings(rounds=3, tables=2, timer=0))
    buyer = session.device(session.join(session.seats.seat(0, "procurement").key, "Buyers")[0])
    session.join(session.seats.seat(0, "supplier").key, "Sellers")
    session.set_bot(2, "procurement", "cost_down")
    session.set_bot(2, "supplier", "hold")
    session.start()
    assert [t.rounds_played for t in session.tables] == [0, 1]  # the bots' table plays at once
    session.submit(buyer, {"demand": 0.1})
    session.end_round()
    assert session.round == 2 and [t.rounds_played for t in session.tables] == [1, 2]
    session.undo_last()
    assert session.round == 1 and [t.rounds_played for t in session.tables] == [0, 1]
    assert session.tables[0].demand == pytest.approx(0.1) and session.tables[0].model.period == 0
    fresh = Registry(clock=Clock()).create(Settings(rounds=3, tables=2, timer=0))
    fresh.set_bot(2, "procurement", "cost_down")
    fresh.set_bot(2, "supplier", "hold")
    fresh.start()
    pd.testing.assert_frame_equal(fresh.tables[1].series(), session.tables[1].series())


def test_new_session_opens_a_room_beside_the_running_one_and_can_be_undone():
    registry = Registry(clock=Clock())
    first = registry.create(Settings(rounds=2, tables=1, timer=0))
    tokens = tokens_of(first)
    first.start()
    second = registry.create(Settings(rounds=1, tables=1, timer=0))
    assert registry.current is second and first.state == "running" and second.code != first.code
    first.submit(first.device(tokens[(0, "procurement")]), {"demand": 0.1})  # the old room plays on
    assert registry.find(first.code) is first
    registry.discard(second)
    assert registry.current is first and second.code not in registry.sessions
    third = registry.create(Settings(rounds=1, tables=1, timer=0))
    third.join(third.seats.seat(0, "supplier").key, "Early")
    with pytest.raises(GameError, match="nothing to undo"):
        registry.discard(third)


# ---------------------------------------------------------------------------- saved rooms


def play(session: Session, tokens, moves) -> None:
    for t, (demand, answer, points) in enumerate(moves):
        if demand is not None:
            session.submit(session.device(tokens[(t, "procurement")]), {"demand": demand})
        if answer is not None:
            session.submit(session.device(tokens[(t, "supplier")]), {"answer": answer, "points": points})


def test_a_saved_room_resumes_with_every_table_move_device_and_timer(tmp_path):
    clock = Clock()
    store = Store(tmp_path / "data")
    registry = Registry(store, clock=clock)
    session = registry.create(Settings(rounds=3, tables=2, timer=90))
    tokens = tokens_of(session)
    waiting_token, _ = session.ask(1, "supplier", "ignored")
    session.start()
    play(session, tokens, [(0.1, "discount", 0.03), (0.12, "hold", 0.0)])
    play(session, tokens, [(0.15, None, None), (None, None, None)])  # round 2: one demand in
    clock.now += 30
    session.pause()
    store.close()
    assert [p.name for p in (tmp_path / "data").glob("*.sqlite")] == [f"game-{session.code}.sqlite"]

    again = Registry(Store(tmp_path / "data"), clock=Clock())
    resumed = again.current
    assert resumed is not None and resumed.code == session.code and again.secret == registry.secret
    assert (resumed.state, resumed.round, resumed.remaining()) == ("paused", 2, pytest.approx(60))
    assert resumed.tables[0].demand == pytest.approx(0.15) and resumed.tables[1].demand is None
    for old, new in zip(session.tables, resumed.tables, strict=True):
        pd.testing.assert_frame_equal(old.series(), new.series())
        assert old.log == new.log and old.teams == new.teams
    _s, device = again.by_token(tokens[(0, "supplier")])  # a device returns to its seat
    assert (device.table, device.role) == (0, "supplier")
    assert resumed.seats.device(waiting_token).status == "waiting"
    resumed.resume()
    play(resumed, tokens, [(None, "discount", 0.02), (0.2, "hold", 0.0)])
    assert resumed.round == 3
    again.store.close()


def test_every_move_is_saved_before_it_is_answered(tmp_path):
    store = Store(tmp_path)
    registry = Registry(store, clock=Clock())
    session = registry.create(Settings(rounds=2, tables=1, timer=0))
    tokens = tokens_of(session)
    session.start()
    session.submit(session.device(tokens[(0, "procurement")]), {"demand": 0.11})
    with sqlite3.connect(store.path(session.code)) as db:
        snapshot = json.loads(db.execute("SELECT snapshot FROM game").fetchone()[0])
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x50534D47
    assert snapshot["tables"][0]["pending"]["demand"] == pytest.approx(0.11)
    assert tokens[(0, "procurement")] not in json.dumps(snapshot)  # only hashes of device tokens
    store.close()


def test_one_server_per_data_folder(tmp_path):
    from sim.errors import InputError

    store = Store(tmp_path)
    with pytest.raises(InputError, match="another procsim game is using"):
        Store(tmp_path)
    store.close()
    Store(tmp_path).close()


def test_old_rooms_are_removed_only_by_command_and_only_procsims_own(tmp_path, capsys):
    data = tmp_path / "data"
    store = Store(data)
    registry = Registry(store, clock=Clock())
    old = registry.create(Settings(tables=1, timer=0))
    recent = registry.create(Settings(tables=1, timer=0))
    store.close()
    with sqlite3.connect(data / f"game-{old.code}.sqlite") as db:
        db.execute("UPDATE game SET updated = ?", (time.time() - 40 * 86400,))
    foreign = data / "game-ACDEFH.sqlite"  # a name like ours, but not a procsim game file
    foreign.write_bytes(b"not sqlite at all")
    (data / "notes.txt").write_text("mine")
    assert main(["game", "--data", str(data), "--list-sessions"]) == 0
    listed = capsys.readouterr().out
    assert old.code in listed and recent.code in listed
    assert "ACDEFH: cannot read game-ACDEFH.sqlite" in listed  # listed with the reason, never opened as a game
    Registry(Store(data), clock=Clock()).store.close()  # starting again removes nothing
    assert (data / f"game-{old.code}.sqlite").exists()
    assert main(["game", "--data", str(data), "--remove-older-than", "30"]) == 0
    assert old.code in capsys.readouterr().out
    assert not (data / f"game-{old.code}.sqlite").exists()
    assert (data / f"game-{recent.code}.sqlite").exists() and foreign.exists() and (data / "notes.txt").exists()


def test_a_saved_room_can_be_exported_again_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "data"
    store = Store(data)
    registry = Registry(store, clock=Clock())
    session = registry.create(Settings(rounds=2, tables=1, timer=0, table_names=("=HYPERLINK(1)",)))
    tokens = tokens_of(session)
    assert main(["game", "--data", str(data), "--export-session", session.code.lower(), "--out", str(tmp_path)]) == 2
    assert "has not played a round" in capsys.readouterr().err
    session.start()
    play(session, tokens, [(0.1, "discount", 0.000012345)])
    store.close()
    assert main(["game", "--data", str(data), "--export-session", session.code, "--out", str(tmp_path / "out")]) == 0
    folder = Path(capsys.readouterr().out.strip().split(" to ")[1])
    text = (folder / "rounds.csv").read_text()
    assert "'=HYPERLINK(1)" in text and not re.search(r"\de[+-]?\d", text)  # no scientific notation
    assert main(["game", "--data", str(data), "--export-session", "ZZZZZZ"]) == 2


# ---------------------------------------------------------------------------- the live API


@pytest.fixture
def live(tmp_path):
    server = GameAPI(tmp_path / "exports", data=tmp_path / "data")
    yield server
    server.stop()


def test_taking_another_teams_seat_or_acting_with_its_token_is_refused(live):
    code = live.session.code
    buyer = live.join(1, "procurement", "Buyers")
    live.join(2, "procurement", "Other buyers")
    live.call("/api/facilitator/action", {"action": "start"}, live.key)
    # with the room code only, a device cannot take the taken seat: it waits for approval and cannot move
    status, asked, _ = live.call("/api/join", {"code": code, "table": 1, "role": "procurement", "team": "x"})
    assert status == 200 and asked["status"] == "waiting"
    thief = {"X-Player-Token": asked["token"]}
    status, data, _ = live.call("/api/move", {"demand": 0.5}, thief)
    assert status == 403 and "not approved" in data["error"]
    # a wrong seat secret is refused
    status, data, _ = live.call("/api/join", {"code": code, "seat": "x" * 32, "team": "x"})
    assert status == 403
    # table 1's token cannot move for table 2, nor for table 1's supplier
    for move in ({"table": 2, "demand": 0.5}, {"role": "supplier", "answer": "hold"}):
        status, data, _ = live.call("/api/move", move, buyer)
        assert status == 403 and "only for its own team" in data["error"]
    assert live.call("/api/move", {"demand": 0.5}, {"X-Player-Token": "forged"})[0] == 401
    assert all(t.demand is None for t in live.session.tables)
    status, _d, _ = live.call("/api/move", {"demand": 0.12}, buyer)
    assert status == 200 and live.session.tables[0].demand == pytest.approx(0.12)


def test_the_same_device_returns_to_its_seat_by_its_cookie(live):
    code = live.session.code
    status, _data, _ = live.call("/api/join", {"code": code, "seat": live.seat_key(2, "supplier"), "team": "Sellers"})
    cookie = live.last_headers["set-cookie"]
    assert status == 200 and f"procsim_{code}=" in cookie
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    jar = {"Cookie": cookie.split(";")[0]}
    status, lobby, _ = live.call(f"/api/session/{code}", headers=jar)  # the QR code scanned again
    assert lobby["me"] == {"status": "seated", "request": 0}
    status, me, _ = live.call(f"/api/me?code={code}", headers=jar)
    assert status == 200 and me["view"]["table_number"] == 2 and me["view"]["role"] == "supplier"
    status, again, _ = live.call("/api/join", {"code": code, "seat": live.seat_key(2, "supplier"), "team": "x"}, jar)
    assert status == 409 and "already" in again["error"]
    assert live.call(f"/api/me?code={code}")[0] == 401  # another device, no cookie


def test_oversize_bodies_are_refused_before_they_are_held(live):
    import http.client

    port = int(live.base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # announced as 200 MB: refused from the header, nothing read
    connection.putrequest("POST", "/api/join")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(200 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"{")
    response = connection.getresponse()
    assert response.status == 413 and "too large" in json.loads(response.read())["error"]
    connection.close()
    # streamed without a length (chunked): refused once it passes the limit, the rest never read
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/api/join")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b"x" * 65536
    sent = 0
    try:
        for _ in range(64):  # up to 4 MB, far beyond the 16 KB limit
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading and closed the connection
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_body_limit_reads_no_further_than_the_limit():
    import asyncio

    from sim.game.web import MAX_BODY, BodyLimit

    pulled = []

    async def endless():
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * 4096, "more_body": True}

    async def app(scope, receive, send):
        while True:
            await receive()

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"transfer-encoding", b"chunked")]}
    with pytest.raises(Exception, match="too large"):
        asyncio.run(BodyLimit(app)(scope, endless, send))
    assert len(pulled) == MAX_BODY // 4096 + 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/join",
        "/api/move",
        "/api/facilitator/action",
        "/api/facilitator/settings",
        "/api/facilitator/new",
        "/api/facilitator/open",
    ],
)
def test_malformed_requests_are_4xx_with_a_message_never_500(live, path):
    buyer = live.join(1, "procurement", "Buyers")
    bodies = [
        b"",
        b"null",
        b"[]",
        b"1e999",
        b'"text"',
        b'{"action": ["start"]}',
        b'{"action": {"a": 1}, "question": [1]}',
        b'{"code": {"x": 1}, "table": [1], "role": 5, "team": {"a": []}, "seat": 7}',
        b'{"demand": "NaN", "answer": null, "points": 1e308}',
        b'{"demand": 1e309}',
        b'{"rounds": 1e100, "tables": "-1", "timer": true, "seed": [], "scenario": 7, "table_names": {"a": 1}}',
        b'{"action": "question", "question": "9999999999999999999999999999999"}',
        b'{"action": "bot", "table": 1, "role": "supplier", "bot": "../../etc/passwd"}',
        b'{"action": "approve", "request": "x"}',
        b'{"action": "reassign", "table": 99, "role": "supplier"}',
        b'{"code": "../../etc/passwd"}',
        b"\xff\xfe{",
        b"{" * 3000,
    ]
    malformed = {b"null", b"[]", b"1e999", b'"text"', b"\xff\xfe{", b"{" * 3000}
    for body in bodies:
        status, data, raw = live.call(path, raw=body, headers={**live.key, **buyer})
        assert status < 500, (path, body[:40], status, raw[:200])
        if body in malformed:
            assert 400 <= status < 500, (path, body[:40], status)
        if status >= 400:
            assert data.get("error"), (path, body[:40])


def test_a_server_restarted_on_its_data_folder_resumes_the_room(tmp_path):
    data = tmp_path / "data"
    first = GameAPI(tmp_path / "exports", data=data, settings=Settings(rounds=2, tables=1, timer=300))
    buyer = first.join(1, "procurement", "Buyers")
    seller = first.join(1, "supplier", "Sellers")
    first.call("/api/facilitator/action", {"action": "start"}, first.key)
    first.call("/api/move", {"demand": 0.14}, buyer)
    key = first.key
    first.stop()
    second = GameAPI(tmp_path / "exports", data=data)
    try:
        assert second.key == key
        status, me, _ = second.call("/api/me", headers=seller)
        view = me["view"]
        assert status == 200 and view["state"] == "running" and view["demand"] == pytest.approx(0.14)
        assert 200 < me["remaining"] <= 300
        assert second.call("/api/move", {"answer": "discount", "points": 0.02}, seller)[0] == 200
        assert second.session.tables[0].log[0]["demand"] == pytest.approx(0.14)
        status, rooms, _ = second.call("/api/facilitator/sessions", headers=second.key)
        assert [r["code"] for r in rooms["sessions"]] == [second.session.code] and rooms["sessions"][0]["current"]
    finally:
        second.stop()


def test_the_console_lists_rooms_and_reopens_a_past_one(live):
    first = live.session.code
    status, console, _ = live.call("/api/facilitator/new", {"tables": 1, "rounds": 1}, live.key)
    second = console["view"]["code"]
    assert status == 200 and second != first and console["view"]["undo"] == "New session"
    status, rooms, _ = live.call("/api/facilitator/sessions", headers=live.key)
    assert {r["code"] for r in rooms["sessions"]} == {first, second}
    status, opened, _ = live.call("/api/facilitator/open", {"code": first}, live.key)
    assert status == 200 and opened["view"]["code"] == first
    assert live.call("/api/facilitator/open", {"code": "ZZZZZZ"}, live.key)[0] == 404


# ---------------------------------------------------------------------------- the command line


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "code"), [(2, 130), (15, 143)], ids=["ctrl-c", "sigterm"])
def test_the_game_saves_every_room_and_exits_130_or_143(tmp_path, stop, code):
    port = free_port()
    data = tmp_path / "data"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "game", "--port", str(port), "--data", str(data), "--timer", "600"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "Ctrl-C" not in log.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)  # polling the server's readiness
            key = re.search(r"facilitator#key=(\S+)", log.read_text()).group(1)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/facilitator/action",
                data=b'{"action": "start"}',
                headers={"X-Facilitator-Key": key, "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            time.sleep(1.2)  # let the round's timer run a little before stopping
            proc.send_signal(stop)
            assert proc.wait(timeout=30) == code, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "every room is saved" in log.read_text()
    store = Store(data, lock=False)
    saved = store.listing()
    assert len(saved) == 1 and saved[0]["state"] == "running"
    snapshot = store.load(saved[0]["code"])
    assert 590 < snapshot["remaining"] < 600  # the timer stopped where the server did


@pytest.mark.slow
def test_a_move_that_was_answered_survives_the_server_being_killed(tmp_path):
    """SIGKILL (no handler runs, nothing is saved at exit): the room comes back with every answered move."""
    import signal

    from .servers import ServerProcess

    data = tmp_path / "data"
    server = ServerProcess(["game", "--data", str(data), "--tables", "1", "--timer", "0"], tmp_path / "log")
    url = server.start()
    try:
        key = re.search(r"facilitator#key=(\S+)", (tmp_path / "log").read_text()).group(1)

        def call(path, body=None, headers=None):
            request = urllib.request.Request(
                url.rstrip("/") + path,
                data=None if body is None else json.dumps(body).encode(),
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())

        seats = call("/api/facilitator/seats", headers={"X-Facilitator-Key": key})
        code = seats["code"]
        tokens = {}
        for seat in seats["seats"]:
            joined = call("/api/join", {"code": code, "seat": seat["link"].split("seat=")[1], "team": seat["role"]})
            tokens[seat["role"]] = {"X-Player-Token": joined["token"]}
        call("/api/facilitator/action", {"action": "start"}, {"X-Facilitator-Key": key})
        call("/api/move", {"demand": 0.13}, tokens["procurement"])
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        server.start()
        me = call("/api/me", headers=tokens["supplier"])
        assert me["view"]["state"] == "running" and me["view"]["demand"] == pytest.approx(0.13)
    finally:
        server.stop()


def test_bad_data_folder_options_exit_with_code_2(tmp_path, capsys):
    assert main(["game", "--data", str(tmp_path / "missing"), "--list-sessions"]) == 2
    assert "no rooms are saved here" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["game", "--data", str(blocker / "sub"), "--port", str(free_port())]) == 2
    assert "cannot write to this folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["game", "--remove-older-than", "soon"])
    assert info.value.code == 2 and "expected a number of days" in capsys.readouterr().err


def test_numbers_in_the_csv_are_positional():
    frame = pd.DataFrame({"a": [1.2e-05, 3.0e20, np.nan, -0.5], "team": ["=x", "+y", "@z", "ok"]})
    text = debrief.csv_text(frame)
    assert not re.search(r"\de[+-]?\d", text)
    assert "0.000012" in text and "300000000000000000000" in text and "'=x" in text and "'+y" in text
    back = pd.read_csv(io.StringIO(text))
    assert back["a"].iloc[0] == pytest.approx(1.2e-05) and back["a"].iloc[3] == -0.5


def test_story_sentence_follows_the_room():
    session, devices = seated(Settings(rounds=3, tables=2, timer=0))
    assert briefing.round_story(session) == "Teams are joining: 4 of 4 seats are taken."
    session.start()
    assert briefing.round_story(session).startswith("Round 1 of 3")
    session.submit(devices[0], {"demand": 0.1})
    session.submit(devices[1], {"answer": "discount", "points": 0.04})
    session.end_round()
    story = briefing.round_story(session)
    assert "Round 2 of 3" in story and "1 granted a discount" in story and "1 held the price" in story
    assert "averages 2.0%, up from 0.0%" in story
    assert game_scenario("procurement_squeeze", 3).periods == 12
