"""What every command shares: exit codes, loading a scenario with its options, progress bars, the guard."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_FAILED_RUNS = 0, 1, 2, 3
EXIT_PIPE = 141  # what a shell reports for a program whose output pipe closed (128 + SIGPIPE)


def _overrides(
    items: Sequence[str],
    periods: int | None = None,
    seed: int | None = None,
    accounts: Path | None = None,
    sheet: str | None = None,
) -> dict[str, Any]:
    from sim.inputs.overrides import parse_override

    out = dict(parse_override(item) for item in items)
    if periods is not None:
        out["periods"] = periods
    if seed is not None:
        out["seed"] = seed
    if accounts is not None:
        out["accounts_file"] = str(accounts.resolve())
    if sheet is not None:
        if accounts is None:
            raise InputError("names a worksheet of the --accounts file; give --accounts too", field="--sheet")
        out["accounts_sheet"] = sheet
    return out


def _load(args: argparse.Namespace, name: str, *, with_seed: bool = True):
    """The scenario a command names, with its --set, --grant, --accounts, --periods/--years and --seed."""
    from sim.inputs.grants import parse_grant
    from sim.inputs.loading import load_scenario

    if getattr(args, "years", None) and getattr(args, "periods", None):
        raise InputError("give --periods or --years, not both", field="--years")
    overrides = _overrides(
        args.overrides,
        getattr(args, "periods", None),
        args.seed if with_seed else None,
        getattr(args, "accounts", None),
        getattr(args, "sheet", None),
    )
    grants = [parse_grant(g) for g in getattr(args, "grants", [])]
    scenario = load_scenario(name, overrides, grants)
    if getattr(args, "years", None):
        overrides["periods"] = args.years * scenario.periods_per_year
        scenario = load_scenario(name, overrides, grants)
    return scenario


def _index(out: Path) -> None:
    """Rebuild results/index.html when the run was written under a results folder.

    The run is published by then, so a failure here is a warning (the run's own files are
    complete), not an error: the index is rebuilt by the next run.
    """
    from sim.errors import clean
    from sim.reports.files import disk_problem
    from sim.reports.results_index import index_root, rebuild_index

    try:
        root = index_root(out)
        if root is not None:
            rebuild_index(root)
    except Exception as exc:  # noqa: BLE001 - the outputs are complete; the index only lists them
        reason = disk_problem(exc) or f"{type(exc).__name__}: {clean(str(exc), 200)}"
        print(
            f"procsim: warning: the outputs are complete in {clean(str(out), 300)}, but results/index.html could "
            f"not be updated ({reason}); the next run rebuilds it",
            file=sys.stderr,
        )


def _progress(total: int, label: str, quiet: bool, minimum: int = 200):
    """A rich progress bar on stderr for work that takes more than a moment (terminals only)."""
    from contextlib import nullcontext

    if quiet or total < minimum or not sys.stderr.isatty():
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    class Bar:
        def __enter__(self):
            self.progress = Progress(
                TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
            )
            self.progress.__enter__()
            self.task = self.progress.add_task(label, total=total)
            return lambda n: self.progress.advance(self.task, n)

        def __exit__(self, *exc):
            return self.progress.__exit__(*exc)

    return Bar()


def _guard(estimate, out: Path | None, args: argparse.Namespace, source: str | None = None) -> None:
    """Refuse work too big for this machine (exit 2 with the estimate); say how long long work will take."""
    from sim.runs.resources import check

    try:
        check(estimate, out, force=args.force)
    except InputError as exc:
        exc.source = exc.source or source
        raise
    if estimate.seconds > 300 and not getattr(args, "quiet", False):
        print(f"procsim: {estimate.describe()} (estimated; Ctrl-C stops it)", file=sys.stderr)


def check_port(host: str, port: int) -> None:
    """Refuse a port that is taken (suggesting another) or a host that is not this machine's, before serving."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"port {port} is already in use (another procsim or program); choose another, e.g. --port {port + 1}",
                    field="--port",
                ) from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
                raise InputError(
                    f"cannot serve on {host!r}: not an address of this machine (use 127.0.0.1 or 0.0.0.0)",
                    field="--host",
                ) from None
            if exc.errno == errno.EACCES:
                raise InputError(
                    f"port {port} needs administrator rights; use a port above 1023", field="--port"
                ) from None
            raise InputError(f"cannot serve on {host}:{port}: {exc.strerror}", field="--port") from None
