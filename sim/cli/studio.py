"""``procsim studio``: what-ifs on your accounts in a browser, served on this machine."""

from __future__ import annotations

import argparse
import contextlib
import sys

from sim.cli.common import EXIT_OK, check_port


def cmd_studio(args: argparse.Namespace) -> int:
    """Serve the studio until Ctrl-C or SIGTERM (127.0.0.1 unless --host says otherwise)."""
    from sim.inputs.loading import load_scenario
    from sim.studio.server import serve

    extra = ()
    if args.scenario:
        load_scenario(args.scenario)  # a bad name or file fails here, with exit code 2
        extra = (args.scenario,)
    check_port(args.host, args.port)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, extra)
    print("procsim studio: stopped", file=sys.stderr)
    return EXIT_OK
