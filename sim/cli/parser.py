"""The command line's grammar: every command, option and its check, with help in plain words."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import EXIT_INPUT


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit code 2 with one line (no usage dump spam)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"procsim: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds, got {text}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 4294967295, got {value}")
    return value


def build_parser() -> Parser:
    parser = Parser(
        prog="procsim", description="Simulate procurement negotiations and the value-exchange death spiral."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    def force_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--force",
            action="store_true",
            help="start even if the estimated memory or disk needed exceeds what this machine has",
        )

    def sheet_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--sheet",
            metavar="NAME",
            help="worksheet of an .xlsx accounts file (default: a visible sheet named accounts, else the active one)",
        )

    def scenario_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=seed_int, help="random seed (default: the scenario's)")
        p.add_argument("--periods", type=positive_int, help="horizon in periods (default: the scenario's)")
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="PATH=VALUE",
            help="override a scenario field, e.g. customers.count=2000, "
            "customers.procurement.savings_target='{0: 0.08, 12: 0}' or "
            "segments.automotive.procurement.savings_target=6%% (repeatable)",
        )
        p.add_argument(
            "--grant",
            dest="grants",
            action="append",
            default=[],
            metavar="NAME=LEVEL@PERIOD",
            help="you grant an account or segment a discount at its next renewal from PERIOD "
            "(or years: @2y), e.g. ACME=5%%@0 (repeatable); a what-if also takes a step on the current "
            "discount (ACME=+2pp) or a range (ACME=0..10%%, a cost curve)",
        )
        p.add_argument(
            "--accounts", type=Path, metavar="FILE", help="your accounts, CSV or XLSX (see `procsim accounts template`)"
        )
        sheet_option(p)
        p.add_argument("--years", type=positive_int, help="horizon in years (instead of --periods)")

    def posterior_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--posterior",
            type=Path,
            metavar="DIR",
            help="a finished `procsim calibrate` folder: each replicate draws the fitted parameters from its "
            "posterior, so the ranges include their uncertainty (needs --replicates 2 or more)",
        )

    run = sub.add_parser("run", help="run a scenario and write its outputs and report")
    run.add_argument("scenario", help="bundled scenario name (see `procsim list`) or a YAML file")
    run.add_argument("--out", type=Path, help="output folder (default: results/<scenario>/<run-id>)")
    run.add_argument("--replicates", type=positive_int, default=1, help="run over N seeds derived from --seed")
    run.add_argument(
        "--no-counterfactual", action="store_true", help="skip the no-discount comparison run used by the report"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.add_argument("--label", help="label of the run folder (default: derived from --set and --grant)")
    scenario_options(run)
    posterior_option(run)
    force_option(run)

    what = sub.add_parser(
        "whatif", help="answer a what-if in money and years: base vs changed scenario on the same seeds"
    )
    what.add_argument("scenario", help="the base: a bundled scenario name or a YAML file")
    what.add_argument("--replicates", type=positive_int, default=20, help="seeds to run both sides on (default 20)")
    what.add_argument("--out", type=Path, help="output folder (default: results/whatif/<scenario>/<run-id>-<label>)")
    what.add_argument("--label", help="name of the what-if (default: derived from --set and --grant)")
    what.add_argument("--quiet", action="store_true", help="no progress bar; print only the answer")
    what.add_argument(
        "--base-set",
        dest="base_overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="change the base too (both sides), e.g. customers.count=500; --set changes only the what-if",
    )
    scenario_options(what)
    what.add_argument(
        "--find",
        type=share_arg,
        metavar="P",
        help="with a range of grants (--grant 'ACME=0..10%%'): the largest grant that keeps the account and its "
        "named peers with you in at least P of runs, e.g. 90%%",
    )
    what.add_argument(
        "--rate", type=rate_arg, default=0.08, metavar="R", help="discount rate a year for the NPV (default 8%%)"
    )
    posterior_option(what)
    force_option(what)

    accounts = sub.add_parser("accounts", help="your account list: `procsim accounts template > accounts.csv`")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", parser_class=Parser, required=True)
    template = accounts_sub.add_parser("template", help="print an example account list (CSV) with every column")
    template.add_argument("scenario", nargs="?", default="baseline", help="scenario whose segments to use")
    check = accounts_sub.add_parser("check", help="check an account list against a scenario")
    check.add_argument("file", type=Path)
    check.add_argument("--scenario", default="baseline")
    sheet_option(check)

    validate = sub.add_parser("validate", help="check scenario and sweep files without running them")
    validate.add_argument("scenarios", nargs="+", help="scenario or sweep files, or bundled names")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    validate.add_argument("--grant", dest="grants", action="append", default=[], metavar="NAME=LEVEL@PERIOD")
    validate.add_argument("--accounts", type=Path, metavar="FILE")
    sheet_option(validate)

    sub.add_parser("list", help="list bundled scenarios with their descriptions")

    cmp = sub.add_parser("compare", help="run two scenarios on the same seeds and compare them")
    cmp.add_argument("a")
    cmp.add_argument("b")
    cmp.add_argument("--out", type=Path, help="output folder (default: results/compare/<a>-vs-<b>/<run-id>)")
    cmp.add_argument("--replicates", type=positive_int, default=1)
    cmp.add_argument("--quiet", action="store_true")
    scenario_options(cmp)
    posterior_option(cmp)
    force_option(cmp)

    cal = sub.add_parser(
        "calibrate", help="fit a scenario's parameters to observed series (ABC-SMC; resumable; local or Dask workers)"
    )
    cal.add_argument("scenario", help="bundled scenario name or a YAML file: the market whose parameters to fit")
    cal.add_argument(
        "--observed",
        type=Path,
        required=True,
        metavar="FILE",
        help="CSV or XLSX: a period, quarter (2024-Q3), month, year or date column and 3-40 rows of the model's "
        "series by name or label (average discount, supplier margin, capability index, ...); empty cells allowed",
    )
    cal.add_argument(
        "--fit",
        action="append",
        default=[],
        metavar="PATH=LOW..HIGH",
        help="a parameter to fit and its uniform prior, e.g. customers.procurement.savings_target=0..20%% or "
        "suppliers.margin_defense=0..1 (repeatable, at most 8)",
    )
    cal.add_argument("--replicates", type=positive_int, default=1, help="seeds per parameter set, averaged (default 1)")
    cal.add_argument(
        "--budget", type=positive_int, default=5000, metavar="RUNS", help="most runs to simulate (default 5,000)"
    )
    cal.add_argument("--population", type=positive_int, help="particles per population (default: from --budget)")
    cal.add_argument("--out", type=Path, help="output folder (default: results/calibration/<scenario>-<observed file>)")
    cal.add_argument(
        "--workers", type=positive_int, help="local worker processes (default: one per core; 1 runs in this process)"
    )
    cal.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    cal.add_argument("--resume", action="store_true", help="finish an interrupted calibration in --out")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    scenario_options(cal)
    force_option(cal)
    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; local processes or a Dask cluster)")
    sweep.add_argument("sweep", help="bundled sweep name (scenarios/sweeps) or a sweep YAML file")
    sweep.add_argument("--out", type=Path, help="output folder (default: results/sweeps/<sweep>)")
    sweep.add_argument(
        "--workers", type=positive_int, help="local worker processes (default: one per core; 1 runs in this process)"
    )
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--dry-run",
        action="store_true",
        help="print the design's points, runs and batches and the estimated time, memory and disk; run nothing",
    )
    force_option(sweep)

    query = sub.add_parser("query", help="SQL over a sweep's runs and series tables (DuckDB)")
    query.add_argument("folder", type=Path)
    query.add_argument("sql", help='one SELECT, e.g. "SELECT outcome, count(*) FROM runs GROUP BY outcome" (read-only)')
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    query.add_argument(
        "--timeout", type=positive_seconds, default=60.0, help="stop the query after this many seconds (default 60)"
    )
    query.add_argument(
        "--max-rows",
        type=positive_int,
        default=100_000,
        help="show at most this many rows and say how many were left out (default 100000)",
    )

    analyze = sub.add_parser(
        "analyze",
        help="phase diagram, tipping point, sensitivity, ranking, robustness and time series of a sweep, checked",
    )
    analyze.add_argument("folder", type=Path)
    analyze.add_argument(
        "--workers",
        type=positive_int,
        help="processes for the tipping-point search (default: one per core; scenario discovery takes one more)",
    )
    analyze.add_argument(
        "--no-tipping", action="store_true", help="skip the tipping-point search (it runs new simulations)"
    )
    analyze.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    force_option(analyze)

    for name, text in (
        ("dashboard", "the live workshop dashboard in a browser (levers, play, side by side)"),
        ("game", "the negotiation game for a room: teams on their own devices, a facilitator console, a debrief"),
    ):
        web = sub.add_parser(name, help=text)
        web.add_argument("scenario", nargs="?", default="procurement_squeeze", help="scenario to start with")
        web.add_argument("--port", type=port_int, default=8765, help="port (default 8765)")
        web.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to serve on (default 127.0.0.1: this machine only; 0.0.0.0 lets the room's devices connect)",
        )
        if name == "game":
            web.add_argument("--rounds", type=game_rounds, default=6, help="contract cycles per game, 1-40 (default 6)")
            web.add_argument("--tables", type=game_tables, default=2, help="tables of two teams, 1-20 (default 2)")
            web.add_argument(
                "--timer", type=game_timer, default=180, help="seconds per round, 0 for none (default 180)"
            )
            web.add_argument("--seed", type=seed_int, help="seed of every table's market (default: the scenario's)")
            web.add_argument(
                "--out", type=Path, default=Path("results") / "game", help="folder for exports (default results/game)"
            )
            web.add_argument(
                "--data",
                type=Path,
                help="folder where every room is saved as it plays, and resumed from on restart "
                "(default: OUT/sessions)",
            )
            web.add_argument("--new", action="store_true", help="open a new room even when saved rooms are resumed")
            web.add_argument("--open", dest="open_code", metavar="CODE", help="make this saved room the console's room")
            rooms = web.add_mutually_exclusive_group()
            rooms.add_argument("--list-sessions", action="store_true", help="list the rooms saved in the data folder")
            rooms.add_argument(
                "--export-session", metavar="CODE", help="export a saved room's debrief (PNG, CSV, HTML) to --out"
            )
            rooms.add_argument(
                "--remove-older-than",
                type=game_days,
                metavar="DAYS",
                help="remove saved rooms not changed for DAYS days (only procsim's own files)",
            )
    studio = sub.add_parser(
        "studio", help="what-ifs on your accounts in a browser: upload, set your numbers, ask, compare, download"
    )
    studio.add_argument("--scenario", help="a scenario file to offer beside the bundled ones")
    studio.add_argument("--port", type=port_int, default=8766, help="port (default 8766)")
    studio.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine only)"
    )
    return parser


def game_days(text: str) -> float:
    try:
        value = float(text.removesuffix("d"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not 0 <= value <= 36500 or value != value:
        raise argparse.ArgumentTypeError(f"must be between 0 and 36500 days, got {text!r}")
    return value


def game_rounds(text: str) -> int:
    value = positive_int(text)
    if value > 40:
        raise argparse.ArgumentTypeError(f"must be between 1 and 40, got {value}")
    return value


def game_tables(text: str) -> int:
    value = positive_int(text)
    if value > 20:
        raise argparse.ArgumentTypeError(f"must be between 1 and 20, got {value}")
    return value


def game_timer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 3600 seconds, got {value}")
    return value


def port_int(text: str) -> int:
    value = seed_int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a port between 1 and 65535, got {value}")
    return value


def share_arg(text: str) -> float:
    """A share of runs such as ``90%`` or ``0.9`` (above 0, at most 100%)."""
    value = _percent(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0% and at most 100%, got {text!r}")
    return value


def rate_arg(text: str) -> float:
    """A discount rate a year such as ``8%`` or ``0.08`` (0 to 100%)."""
    value = _percent(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0% and 100% a year, got {text!r}")
    return value


def _percent(text: str) -> float:
    raw = text.strip().replace(" ", "")
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage such as 8%, got {text!r}") from None
