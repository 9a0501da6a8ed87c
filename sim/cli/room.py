"""``procsim dashboard`` and ``procsim game``: the servers a trainer runs for a room."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from sim.cli.common import EXIT_OK, check_port
from sim.errors import InputError

SOLARA_OFFLINE = {
    # no telemetry, no banner over the charts; the version check is off by --no-check-version
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
}


def solara_command(host: str, port: int) -> list[str]:
    """The solara server command for the dashboard: production mode, no browser, no version check."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.dashboard.app",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the dashboard with solara on host:port until Ctrl-C (exit 130) or SIGTERM (143), which stop solara too."""
    import signal
    import subprocess

    from sim.inputs.loading import load_scenario
    from sim.runs.signals import exit_code

    load_scenario(args.scenario)  # a bad name fails here, with exit code 2
    check_port(args.host, args.port)
    env = {**os.environ, **SOLARA_OFFLINE, "PROCSIM_SCENARIO": args.scenario}
    shown = "127.0.0.1" if args.host == "0.0.0.0" else args.host  # noqa: S104 - naming the address, not binding
    url = f"http://{shown}:{args.port}/"
    print(f"procsim dashboard: open {url} (Ctrl-C to stop)", flush=True)
    # solara runs in its own process group, so stopping it stops every process it started
    child = subprocess.Popen(solara_command(args.host, args.port), env=env, start_new_session=True)

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    try:
        return child.wait()
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (raised as Terminated by the CLI)
        stop()
        print("procsim dashboard: stopped", file=sys.stderr)
        return exit_code(exc)


def cmd_game(args: argparse.Namespace) -> int:
    """Serve the room game until Ctrl-C or SIGTERM (130/143 once every room is saved); or list, export, remove rooms."""
    from sim.game.settings import Settings
    from sim.game.table import GameError
    from sim.inputs.loading import load_scenario

    data = args.data if args.data is not None else args.out / "sessions"
    if args.list_sessions or args.export_session or args.remove_older_than is not None:
        return _saved_rooms(args, data)
    load_scenario(args.scenario)  # a bad name fails here, with exit code 2
    check_port(args.host, args.port)
    try:
        settings = Settings.parse(
            {
                "scenario": args.scenario,
                "rounds": args.rounds,
                "seed": args.seed,
                "tables": args.tables,
                "timer": args.timer,
            },
            also=(args.scenario,),
        )
    except GameError as exc:
        raise InputError(exc.message, field=f"--{exc.field}" if exc.field else None) from None
    from sim.game.serve import serve
    from sim.runs.signals import exit_code

    try:
        serve(settings, args.host, args.port, args.out, data, new=args.new, open_code=args.open_code)
    except GameError as exc:
        raise InputError(exc.message, field="--open") from None
    except KeyboardInterrupt as exc:
        print(f"procsim game: stopped; every room is saved in {data}", file=sys.stderr)
        return exit_code(exc)
    print(f"procsim game: stopped; every room is saved in {data}", file=sys.stderr)
    return EXIT_OK


def _saved_rooms(args: argparse.Namespace, data) -> int:
    """``--list-sessions``, ``--export-session CODE`` and ``--remove-older-than DAYS`` on a data folder."""
    from sim.game.serve import describe
    from sim.game.store import Store

    if not data.is_dir():
        raise InputError("no rooms are saved here (the folder does not exist)", source=str(data), field="--data")
    if args.remove_older_than is not None:
        store = Store(data)  # refused while a server uses the folder
        try:
            removed = store.remove_older_than(args.remove_older_than)
        finally:
            store.close()
        print(f"removed {len(removed)} room(s) not changed for {args.remove_older_than:g} days: {', '.join(removed)}")
        return EXIT_OK
    store = Store(data, lock=False)
    if args.list_sessions:
        rooms = store.listing()
        for room in rooms:
            print(describe(room))
        if not rooms:
            print(f"no rooms are saved in {data}")
        return EXIT_OK
    return _export(store, args)


def _export(store, args: argparse.Namespace) -> int:
    from sim.game import debrief
    from sim.game.codes import normalise_code
    from sim.game.session import Session
    from sim.game.store import StoreError
    from sim.game.table import GameError
    from sim.reports.files import default_out

    code = normalise_code(args.export_session)
    try:
        session = Session.from_dict(store.load(code))
    except (StoreError, GameError, ValueError, KeyError) as exc:
        message = exc.message if isinstance(exc, GameError) else str(exc)
        raise InputError(f"cannot open room {code}: {message}", field="--export-session") from None
    if not any(t.rounds_played for t in session.tables):
        raise InputError(f"room {code} has not played a round yet: nothing to export", field="--export-session")
    folder = debrief.export(session, default_out(f"game-{code}", session.seed, root=args.out))
    print(f"exported room {code} to {folder}")
    return EXIT_OK
