"""The ``procsim`` command line: one module per command group, dispatched from here.

This is the top application layer: it may import every layer below it (engine,
inputs, runs, reports, the applications and ``sim.api``), always inside the command
that needs it, so a command that does not simulate never loads the engine. Each
command module (``runs``, ``accounts``, ``sweeps``, ``room``, ``studio``, ``calibrate``) imports only
``sim.cli.common`` and ``sim.cli.parser`` from this package.

Exit codes: 0 success, 2 invalid input (a bad file, value, key or option; one readable
message naming the file and the field, nothing written; also work too big for this
machine, and a disk that is full or not writable), 1 an internal error (or a sweep
worker that died), 3 a sweep that finished but some of its runs failed (they are
recorded in runs.parquet), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Sequence

from sim.cli.accounts import cmd_accounts, cmd_whatif
from sim.cli.calibrate import cmd_calibrate
from sim.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_PIPE
from sim.cli.parser import build_parser
from sim.cli.room import cmd_dashboard, cmd_game
from sim.cli.runs import cmd_compare, cmd_list, cmd_run, cmd_validate
from sim.cli.studio import cmd_studio
from sim.cli.sweeps import cmd_analyze, cmd_query, cmd_sweep
from sim.errors import InputError, clean
from sim.runs.signals import exit_code, sigterm_as_interrupt

COMMANDS = {
    "run": cmd_run,
    "whatif": cmd_whatif,
    "accounts": cmd_accounts,
    "validate": cmd_validate,
    "list": cmd_list,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "query": cmd_query,
    "analyze": cmd_analyze,
    "calibrate": cmd_calibrate,
    "dashboard": cmd_dashboard,
    "game": cmd_game,
    "studio": cmd_studio,
}


def _output_closed() -> int:
    """The reader of our output went away (``procsim ... | head``): stop quietly, as command-line tools do.

    Standard output is pointed at /dev/null so the interpreter's final flush cannot fail again;
    files already written are complete (every write that matters is atomic).
    """
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``procsim`` and ``python -m sim``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from sim.version import __version__

        print(f"procsim {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    try:
        with sigterm_as_interrupt():
            return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"procsim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        code = exit_code(exc)
        print(f"procsim: {'interrupted' if code == 130 else 'terminated'}; nothing was written", file=sys.stderr)
        return code
    except MemoryError:
        print(
            "procsim: error: ran out of memory; make the run smaller (fewer customers, periods, replicates or "
            "--workers); nothing was written",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except BrokenPipeError:
        return _output_closed()
    except OSError as exc:
        from sim.reports.files import disk_problem

        problem = disk_problem(exc)
        if problem is None:
            return _internal(exc)
        print(
            f"procsim: error: cannot write: {problem}; free some space or choose another --out (nothing was written)",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    if os.environ.get("PROCSIM_DEBUG"):
        traceback.print_exception(exc)
    print(
        f"procsim: internal error: {type(exc).__name__}: {clean(str(exc), 300)} (set PROCSIM_DEBUG=1 for the "
        "traceback; please report it)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
