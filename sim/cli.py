"""The ``procsim`` command line.

Exit codes: 0 success, 2 invalid input (a bad file, value, key or option; one readable
message naming the file and the field, nothing written; also work too big for this
machine, and a disk that is full or not writable), 1 an internal error (or a sweep
worker that died), 3 a sweep that finished but some of its runs failed (they are
recorded in runs.parquet), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import InputError, clean, excerpt
from .signals import exit_code, sigterm_as_interrupt

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_FAILED_RUNS = 0, 1, 2, 3
EXIT_PIPE = 141  # what a shell reports for a program whose output pipe closed (128 + SIGPIPE)


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
            "(or years: @2y), e.g. ACME=5%%@0 (repeatable)",
        )
        p.add_argument(
            "--accounts", type=Path, metavar="FILE", help="your accounts, CSV or XLSX (see `procsim accounts template`)"
        )
        p.add_argument("--years", type=positive_int, help="horizon in years (instead of --periods)")

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
    force_option(what)

    accounts = sub.add_parser("accounts", help="your account list: `procsim accounts template > accounts.csv`")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", parser_class=Parser, required=True)
    template = accounts_sub.add_parser("template", help="print an example account list (CSV) with every column")
    template.add_argument("scenario", nargs="?", default="baseline", help="scenario whose segments to use")
    check = accounts_sub.add_parser("check", help="check an account list against a scenario")
    check.add_argument("file", type=Path)
    check.add_argument("--scenario", default="baseline")

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", nargs="+")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    validate.add_argument("--grant", dest="grants", action="append", default=[], metavar="NAME=LEVEL@PERIOD")
    validate.add_argument("--accounts", type=Path, metavar="FILE")

    sub.add_parser("list", help="list bundled scenarios with their descriptions")

    cmp = sub.add_parser("compare", help="run two scenarios on the same seeds and compare them")
    cmp.add_argument("a")
    cmp.add_argument("b")
    cmp.add_argument("--out", type=Path, help="output folder (default: results/compare/<a>-vs-<b>/<run-id>)")
    cmp.add_argument("--replicates", type=positive_int, default=1)
    cmp.add_argument("--quiet", action="store_true")
    scenario_options(cmp)
    force_option(cmp)
    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; local processes or a Dask cluster)")
    sweep.add_argument("sweep", help="bundled sweep name (scenarios/sweeps) or a sweep YAML file")
    sweep.add_argument("--out", type=Path, help="output folder (default: results/sweeps/<sweep>)")
    sweep.add_argument(
        "--workers", type=positive_int, help="local worker processes (default: one per core; 1 runs in this process)"
    )
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    force_option(sweep)

    query = sub.add_parser("query", help="SQL over a sweep's runs and series tables (DuckDB)")
    query.add_argument("folder", type=Path)
    query.add_argument("sql", help='one SELECT, e.g. "SELECT outcome, count(*) FROM runs GROUP BY outcome" (read-only)')
    query.add_argument("--csv", action="store_true", help="print CSV instead of a table")

    analyze = sub.add_parser("analyze", help="phase diagram, tipping point, sensitivity and ranking of a sweep")
    analyze.add_argument("folder", type=Path)
    analyze.add_argument("--workers", type=positive_int, help="processes for the tipping-point search")
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
    return parser


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


def _overrides(
    items: Sequence[str], periods: int | None = None, seed: int | None = None, accounts: Path | None = None
) -> dict[str, Any]:
    from .scenario import parse_override

    out = dict(parse_override(item) for item in items)
    if periods is not None:
        out["periods"] = periods
    if seed is not None:
        out["seed"] = seed
    if accounts is not None:
        out["accounts_file"] = str(accounts.resolve())
    return out


def _load(args: argparse.Namespace, name: str, *, with_seed: bool = True):
    """The scenario a command names, with its --set, --grant, --accounts, --periods/--years and --seed."""
    from .interventions import parse_grant
    from .scenario import load_scenario

    if getattr(args, "years", None) and getattr(args, "periods", None):
        raise InputError("give --periods or --years, not both", field="--years")
    overrides = _overrides(
        args.overrides,
        getattr(args, "periods", None),
        args.seed if with_seed else None,
        getattr(args, "accounts", None),
    )
    grants = [parse_grant(g) for g in getattr(args, "grants", [])]
    scenario = load_scenario(name, overrides, grants)
    if getattr(args, "years", None):
        overrides["periods"] = args.years * scenario.periods_per_year
        scenario = load_scenario(name, overrides, grants)
    return scenario


def _index(out: Path) -> None:
    """Rebuild results/index.html when the run was written under a results folder."""
    from .results_index import index_root, rebuild_index

    root = index_root(out)
    if root is not None:
        rebuild_index(root)


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
    from .resources import check

    try:
        check(estimate, out, force=args.force)
    except InputError as exc:
        exc.source = exc.source or source
        raise
    if estimate.seconds > 300 and not getattr(args, "quiet", False):
        print(f"procsim: {estimate.describe()} (estimated; Ctrl-C stops it)", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from . import resources
    from .fmt import count_words, money
    from .outputs import check_out, default_out
    from .runner import run_replicates, run_scenario
    from .story import outlook_sentence
    from .whatif import derive_label, safe_label

    scenario = _load(args, args.scenario)
    seed = scenario.seed
    suffix = f"-x{args.replicates}" if args.replicates > 1 else ""
    changed = {k: v for k, v in scenario.overrides.items() if k not in ("seed", "periods")}
    label = (
        safe_label(args.label)
        if args.label
        else (derive_label(changed, scenario.interventions) if changed or scenario.interventions else None)
    )
    out = check_out(args.out or default_out(scenario.name, seed, suffix, label=label))
    estimate = resources.for_run(
        scenario, replicates=args.replicates, counterfactual=not args.no_counterfactual and args.replicates == 1
    )
    _guard(estimate, out, args, scenario.source)
    command = ["procsim", *sys.argv[1:]]
    work = scenario.periods * (args.replicates + (0 if args.no_counterfactual or args.replicates > 1 else 1))
    with _progress(work if scenario.n_customers * work > 200_000 else 0, f"{scenario.name}", args.quiet) as tick:
        if args.replicates > 1:
            result = run_replicates(scenario, args.replicates, seed, out, progress=tick, command=command)
        else:
            result = run_scenario(
                scenario, seed, out, counterfactual=not args.no_counterfactual, progress=tick, command=command
            )
    if not args.quiet:
        s = result.summary
        m = s["metrics"]
        cap = m["capability_index_final"]
        cap = cap["mean"] if isinstance(cap, dict) else cap
        profit = m["supplier_profit_total"]
        profit = profit["mean"] if isinstance(profit, dict) else profit
        counts = f" ({count_words(s['outcomes'])} of {s['replicates']} runs)" if "outcomes" in s else ""
        print(
            f"{scenario.name}: {s['outcome']}{counts} | capability index {cap:.2f} | "
            f"supplier profit {money(profit, clean(scenario.currency, 20))} over "
            f"{scenario.periods / scenario.periods_per_year:g} years"
        )
        ahead = outlook_sentence(s) if "outlook_detail" in s else None
        if ahead:
            print(ahead)
        if s.get("outlooks"):
            print(f"past the horizon: {count_words(s['outlooks'])} of {s['replicates']} runs")
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx)")
    _index(result.out)
    return EXIT_OK


def cmd_whatif(args: argparse.Namespace) -> int:
    from . import resources
    from .outputs import check_out, default_out
    from .scenario import load_scenario
    from .whatif import changed_overrides, derive_label, safe_label, whatif

    shared = _overrides(args.base_overrides)
    args.overrides = [*args.base_overrides, *args.overrides]  # the what-if's own --set wins
    variant = _load(args, args.scenario)
    base_overrides = {k: v for k, v in variant.overrides.items() if k in ("seed", "periods", "accounts_file")}
    base = load_scenario(args.scenario, {**shared, **base_overrides})
    if variant.to_yaml() == base.to_yaml():
        raise InputError("nothing to compare: give --grant NAME=LEVEL@PERIOD or --set PATH=VALUE", field="whatif")
    label = (
        safe_label(args.label) if args.label else derive_label(changed_overrides(variant, base), variant.interventions)
    )
    out = check_out(args.out or default_out(base.name, base.seed, "", root=Path("results") / "whatif", label=label))
    _guard(resources.for_compare(base, variant, replicates=args.replicates), out, args, base.source)
    work = 2 * args.replicates * base.periods
    with _progress(work if base.n_customers * work > 200_000 else 0, f"what-if {label}", args.quiet) as tick:
        result = whatif(
            base,
            variant,
            replicates=args.replicates,
            label=label,
            progress=tick,
            out=out,
            command=["procsim", *sys.argv[1:]],
        )
    print(result.answer["text"] + ".")
    if not args.quiet:
        s = result.summary
        print(f"outcomes: base {s['outcome']['base']}, what-if {s['outcome']['whatif']} ({len(result.seeds)} seeds)")
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx, accounts: accounts.csv)")
    _index(result.out)
    return EXIT_OK


def cmd_accounts(args: argparse.Namespace) -> int:
    from .accounts import read_accounts, template_csv
    from .scenario import load_scenario

    if args.accounts_command == "template":
        sys.stdout.write(template_csv(load_scenario(args.scenario)))
        return EXIT_OK
    read_accounts(args.file)  # the file's own problems first, with row and column
    scenario = load_scenario(args.scenario, {"accounts_file": str(args.file.resolve())})
    segments = sorted({a.segment for a in scenario.accounts})
    print(f"ok: {args.file}: {len(scenario.accounts)} accounts in {', '.join(segments)} (scenario {scenario.name})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.scenarios:
        try:
            sc = _load(args, name, with_seed=False)
        except InputError as exc:
            print(f"procsim: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(
            f"ok: {sc.source} ({sc.name}: {sc.n_suppliers} suppliers, {sc.n_customers} customers, {sc.periods} periods)"
        )
    return EXIT_INPUT if failed else EXIT_OK


def cmd_list(_args: argparse.Namespace) -> int:
    from .scenario import list_scenarios

    rows = list_scenarios()
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, desc, _path in rows:
        print(f"{clean(name):<{width}}  {desc}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from . import resources
    from .compare import compare
    from .outputs import check_out, default_out

    a = _load(args, args.a, with_seed=False)
    b = _load(args, args.b, with_seed=False)
    seed = args.seed if args.seed is not None else a.seed
    out = check_out(args.out or default_out(f"{a.name}-vs-{b.name}", seed, root=Path("results") / "compare"))
    _guard(resources.for_compare(a, b, replicates=args.replicates), out, args, f"{a.source} and {b.source}")
    work = 2 * args.replicates * a.periods
    with _progress(work if a.n_customers * work > 200_000 else 0, "compare", args.quiet) as tick:
        result = compare(
            a, b, seed=seed, replicates=args.replicates, out=out, progress=tick, command=["procsim", *sys.argv[1:]]
        )
    if not args.quiet:
        from .fmt import count_words
        from .report import KEY_METRICS, fmt_difference, fmt_metric

        per_year, cur = a.periods_per_year, clean(a.currency, 20)
        labels = {key: (label, kind) for key, label, kind in KEY_METRICS}
        m = result.summary["metrics"]
        name_a, name_b = clean(a.name, 40), clean(b.name, 40)
        width = max(len(name_a), len(name_b), 12)
        print(f"{'':<40} {name_a:>{width}}  {name_b:>{width}}  {'difference':>14}")
        for key in ("capability_index_final", "supplier_profit_total", "customer_value_total", "joint_value_total"):
            label, kind = labels[key]
            print(
                f"{label:<40} {fmt_metric(m[key][a.name], kind, cur, per_year):>{width}}  "
                f"{fmt_metric(m[key][b.name], kind, cur, per_year):>{width}}  "
                f"{fmt_difference(m[key]['difference'], kind, cur, per_year):>14}"
            )
        for name, counts in result.summary["outcomes"].items():
            print(f"outcomes {clean(name, 40)}: {count_words(counts)}")
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx)")
    _index(result.out)
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    import copy

    from . import resources
    from .experiments import SweepAborted, load_sweep, make_executor, run_sweep
    from .scenario import build_scenario

    if args.scheduler and args.workers:
        raise InputError(
            "give --workers or --scheduler, not both (a Dask cluster has its own workers)", field="--workers"
        )
    sweep = load_sweep(args.sweep)
    root = Path("results") / "sweeps"
    out = args.out or root / sweep.name
    if args.out is None and not Path(os.path.abspath(out)).is_relative_to(os.path.abspath(root)):
        raise InputError(
            f"the sweep name {excerpt(sweep.name)} leads outside {root}", source=sweep.source, field="name"
        )
    if not args.scheduler:
        workers = args.workers or os.cpu_count() or 1
        # the largest market among the points that change its size (the base if none does)
        sizing = [p for p in sweep.points if any(k.endswith(("count", "periods")) for k in p.params)][:1000]
        scenarios = [sweep.scenario(p) for p in sizing] or [build_scenario(copy.deepcopy(sweep.base), sweep.source)]
        base = max(scenarios, key=lambda s: s.n_customers * s.periods)
        _guard(resources.for_sweep(sweep, base, workers), out, args, sweep.source)
    command = ["procsim", *sys.argv[1:]]
    with (
        make_executor(args.workers, args.scheduler) as (executor, slots),
        _sweep_progress(sweep.total_runs, sweep.name, args.quiet) as tick,
    ):
        try:
            result = run_sweep(
                sweep,
                out,
                executor=executor,
                resume=args.resume,
                progress=tick,
                command=command,
                max_in_flight=2 * slots,
                log=lambda msg: print(f"procsim: {msg}", file=sys.stderr),
            )
        except SweepAborted as exc:
            print(f"procsim: {exc}", file=sys.stderr)
            return exc.code
    s = result.summary
    counts = ", ".join(f"{k} {v}" for k, v in s["outcomes"].items() if v)
    print(f"{sweep.name}: {s['runs']} runs ({counts}); {s['failed']} failed; {s['wall_seconds']:.1f} s")
    for failure in s["failures"][:3]:
        print(f"  failed {failure['key']} (seed {failure['seed']}): {clean(failure['error'], 300)}", file=sys.stderr)
    print(f"results: {result.out / 'runs.parquet'}  (next: procsim analyze {result.out})")
    return EXIT_FAILED_RUNS if s["failed"] else EXIT_OK


def _sweep_progress(total: int, label: str, quiet: bool):
    """Runs done, failures and ETA on stderr (terminals only); yields a per-chunk callback."""
    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    @contextlib.contextmanager
    def bar():
        failed = 0
        columns = (
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs, {task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns) as progress:
            task = progress.add_task(label, total=total, failed=0)

            def tick(report) -> None:
                nonlocal failed
                failed += report.failed
                progress.update(task, advance=report.runs, failed=failed)

            yield tick

    return bar()


def cmd_query(args: argparse.Namespace) -> int:
    from .experiments import query

    frame = query(args.folder, args.sql)
    if args.csv:
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(frame.to_string(index=False))
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from .experiments.analysis import analyze, tipping_estimate

    tipping = not args.no_tipping
    if tipping:
        estimate = tipping_estimate(args.folder, args.workers)
        if estimate is not None:
            _guard(estimate, args.folder, args)
    result = analyze(
        args.folder,
        workers=args.workers,
        tipping=tipping,
        log=None if args.quiet else print,
        progress=lambda total, label: _progress(total, label, args.quiet, minimum=1),
    )
    print(f"analysis: {result.html}")
    return EXIT_OK


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

    from .scenario import load_scenario

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
    from .game.server import serve
    from .game.session import Settings
    from .game.table import GameError
    from .scenario import load_scenario

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
    "dashboard": cmd_dashboard,
    "game": cmd_game,
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
        from . import __version__

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
        from .outputs import disk_problem

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
