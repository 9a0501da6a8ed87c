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


class _Terminated(Exception):
    """SIGTERM arrived while the dashboard's server was running."""


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the dashboard with solara on host:port until Ctrl-C or SIGTERM (which stop solara too)."""
    import signal
    import subprocess

    from sim.inputs.loading import load_scenario

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

    def terminated(_signum, _frame) -> None:
        raise _Terminated  # unwinds child.wait() below; stopping happens outside the handler

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        code = child.wait()
    except (KeyboardInterrupt, _Terminated):
        stop()
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
    return code


def cmd_game(args: argparse.Namespace) -> int:
    """Serve the room game until Ctrl-C or SIGTERM: a session with the given settings, its code and QR printed."""
    from sim.game.server import serve
    from sim.game.session import Settings
    from sim.game.table import GameError
    from sim.inputs.loading import load_scenario

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
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, args.host, args.port, args.out)
    print("procsim game: stopped", file=sys.stderr)
    return EXIT_OK
