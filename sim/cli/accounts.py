"""``procsim whatif`` and ``procsim accounts``: questions about your own accounts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK, _guard, _index, _load, _overrides, _progress
from sim.errors import InputError


def cmd_whatif(args: argparse.Namespace) -> int:
    from sim.inputs.grants import parse_question
    from sim.inputs.loading import load_scenario
    from sim.reports.files import check_out, default_out
    from sim.runs import resources
    from sim.whatif.answer import ask, changed_overrides, derive_label, safe_label
    from sim.whatif.output import write_whatif
    from sim.whatif.questions import plan, with_grants
    from sim.whatif.words import terminal_text
    from sim.whatif.you import with_you, you_settings

    questions = [parse_question(g) for g in args.grants]
    shared, shared_you = you_settings(_overrides(args.base_overrides))
    _, own_you = you_settings(_overrides(args.overrides))
    args.grants = []  # asked below, level by level
    args.overrides = [o for o in [*args.base_overrides, *args.overrides] if not o.strip().startswith("you.")]
    market = _load(args, args.scenario)  # the what-if's own --set wins over --base-set
    fixed = {k: v for k, v in market.overrides.items() if k in ("seed", "periods", "accounts_file", "accounts_sheet")}
    base = load_scenario(args.scenario, {**shared, **fixed})
    if shared_you or own_you:
        base = with_you(base, shared_you, source="--base-set")
        market = with_you(market, {**shared_you, **own_you})
    asked = plan(base, questions, args.find)
    if not questions and market.to_yaml() == base.to_yaml():
        raise InputError("nothing to compare: give --grant NAME=LEVEL@PERIOD or --set PATH=VALUE", field="whatif")
    first_level = asked.curve.levels[-1] if asked.curve is not None else None
    variant = with_grants(market, asked.grants_at(first_level))
    label = (
        safe_label(args.label) if args.label else derive_label(changed_overrides(variant, base), variant.interventions)
    )
    if asked.curve is not None and not args.label:
        label = safe_label(f"{label}-range")
    out = check_out(args.out or default_out(base.name, base.seed, "", root=Path("results") / "whatif", label=label))
    sides = len(asked.curve.levels) if asked.curve is not None else 1
    _guard(resources.for_compare(base, variant, replicates=args.replicates * sides), out, args, base.source)
    drawn = None
    if args.posterior is not None:
        from sim.calibration.posterior import drawing

        drawn = drawing(args.posterior, args.replicates, base.seed, base, variant)
    work = (1 + sides) * args.replicates
    with _progress(
        work if base.n_customers * work * base.periods > 200_000 else 0, f"what-if {label}", args.quiet
    ) as tick:
        result = ask(
            base,
            market,
            asked,
            replicates=args.replicates,
            label=label,
            progress=tick,
            rate=args.rate,
            per_replicate=drawn and drawn.scenario,
        )
    if drawn is not None:
        result.summary["posterior"] = drawn.summary()
    result.out = write_whatif(result, out, ["procsim", *sys.argv[1:]])
    text = terminal_text(result.summary)
    print(text.splitlines()[0] if args.quiet else text)
    if drawn is not None:
        print(drawn.sentence())
    if not args.quiet:
        s = result.summary
        print(f"outcomes: base {s['outcome']['base']}, what-if {s['outcome']['whatif']} ({len(result.seeds)} seeds)")
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx, accounts: accounts.csv)")
    _index(result.out)
    return EXIT_OK


def cmd_accounts(args: argparse.Namespace) -> int:
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario
    from sim.reports.cells import spreadsheet_text

    if args.accounts_command == "template":
        sys.stdout.write(template_csv(load_scenario(args.scenario), spreadsheet_text))
        return EXIT_OK
    # every problem of the file and against the scenario at once, each with its row and column
    scenario = load_scenario(args.scenario, _overrides([], accounts=args.file, sheet=args.sheet))
    segments = sorted({a.segment for a in scenario.accounts})
    base = load_scenario(args.scenario)
    made = [s for s in segments if s not in {g.name for g in base.customers}]
    print(f"ok: {args.file}: {len(scenario.accounts)} accounts in {', '.join(segments)} (scenario {scenario.name})")
    if made:
        print(
            f"new segment(s) {', '.join(made)}: made from the scenario's customer group {base.customers[0].name!r} "
            "(to give one settings of its own, define it under customers.groups in a scenario file)"
        )
    return EXIT_OK
