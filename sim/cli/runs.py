"""``procsim run``, ``compare``, ``list`` and ``validate``: one scenario at a time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import EXIT_INPUT, EXIT_OK, _guard, _index, _load, _progress
from sim.errors import InputError, clean


def cmd_run(args: argparse.Namespace) -> int:
    from sim.api import run_replicates, run_scenario
    from sim.reports.files import check_out, default_out
    from sim.reports.fmt import count_words, money
    from sim.reports.story import outlook_sentence
    from sim.runs import resources
    from sim.whatif.answer import derive_label, safe_label

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
    drawn = _drawing(args, args.replicates, seed, scenario)
    work = scenario.periods * (args.replicates + (0 if args.no_counterfactual or args.replicates > 1 else 1))
    with _progress(work if scenario.n_customers * work > 200_000 else 0, f"{scenario.name}", args.quiet) as tick:
        if drawn is not None:
            from sim.calibration.posterior import run_replicates as run_drawn
            from sim.reports.run_folder import write_replicates

            result = run_drawn(scenario, drawn, seed, progress=tick)
            result.out = write_replicates(result, out, command=command)
        elif args.replicates > 1:
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
        if drawn is not None:
            print(drawn.sentence())
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx)")
    _index(result.out)
    return EXIT_OK


def _drawing(args: argparse.Namespace, replicates: int, seed: int, *bases):
    """``--posterior DIR``: each replicate's drawn parameters (None without it)."""
    if getattr(args, "posterior", None) is None:
        return None
    from sim.calibration.posterior import drawing

    return drawing(args.posterior, replicates, seed, *bases)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files and sweep files (told apart by their keys) without running them."""
    from sim.experiments.spec import sweep_file

    failed = 0
    for name in args.scenarios:
        try:
            path = sweep_file(name)
            print(_validate_sweep(args, path) if path is not None else _validate_scenario(args, name))
        except InputError as exc:
            print(f"procsim: error: {exc}", file=sys.stderr)
            failed += 1
    return EXIT_INPUT if failed else EXIT_OK


def _validate_scenario(args: argparse.Namespace, name: str) -> str:
    sc = _load(args, name, with_seed=False)
    return f"ok: {sc.source} ({sc.name}: {sc.n_suppliers} suppliers, {sc.n_customers} customers, {sc.periods} periods)"


def _validate_sweep(args: argparse.Namespace, path: Path) -> str:
    from sim.experiments.spec import load_sweep

    if args.overrides or args.grants or args.accounts:
        raise InputError(
            "--set, --grant and --accounts change a scenario; a sweep file says its own (set:)",
            source=str(path),
            field="--set" if args.overrides else "--grant" if args.grants else "--accounts",
        )
    sweep = load_sweep(path)
    return (
        f"ok: {sweep.source} (sweep {sweep.name}: {sweep.spec.design.kind} design, {len(sweep.points):,} points x "
        f"{len(sweep.seeds):,} seeds = {sweep.total_runs:,} runs; `procsim sweep {sweep.source} --dry-run` for its cost)"
    )


def cmd_list(_args: argparse.Namespace) -> int:
    from sim.inputs.loading import list_scenarios

    rows = list_scenarios()
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, desc, _path in rows:
        print(f"{clean(name):<{width}}  {desc}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.compare.comparison import compare
    from sim.compare.output import write_comparison
    from sim.reports.files import check_out, default_out
    from sim.runs import resources

    a = _load(args, args.a, with_seed=False)
    b = _load(args, args.b, with_seed=False)
    seed = args.seed if args.seed is not None else a.seed
    out = check_out(args.out or default_out(f"{a.name}-vs-{b.name}", seed, root=Path("results") / "compare"))
    _guard(resources.for_compare(a, b, replicates=args.replicates), out, args, f"{a.source} and {b.source}")
    drawn = _drawing(args, args.replicates, seed, a, b)
    work = 2 * args.replicates * a.periods
    with _progress(work if a.n_customers * work > 200_000 else 0, "compare", args.quiet) as tick:
        result = compare(
            a, b, seed=seed, replicates=args.replicates, progress=tick, per_replicate=drawn and drawn.scenario
        )
    if drawn is not None:
        result.summary["posterior"] = drawn.summary()
    result.out = write_comparison(result, out, ["procsim", *sys.argv[1:]])
    if not args.quiet:
        from sim.reports.fmt import count_words
        from sim.reports.pages import KEY_METRICS, fmt_difference, fmt_metric

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
        if drawn is not None:
            print(drawn.sentence())
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx)")
    _index(result.out)
    return EXIT_OK
