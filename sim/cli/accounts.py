"""``procsim whatif`` and ``procsim accounts``: questions about your own accounts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import EXIT_OK, _guard, _index, _load, _overrides, _progress
from sim.errors import InputError


def cmd_whatif(args: argparse.Namespace) -> int:
    from sim.inputs.loading import load_scenario
    from sim.reports.files import check_out, default_out
    from sim.runs import resources
    from sim.whatif.answer import changed_overrides, derive_label, safe_label, whatif
    from sim.whatif.output import write_whatif

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
    drawn = None
    if args.posterior is not None:
        from sim.calibration.posterior import drawing

        drawn = drawing(args.posterior, args.replicates, base.seed, base, variant)
    work = 2 * args.replicates * base.periods
    with _progress(work if base.n_customers * work > 200_000 else 0, f"what-if {label}", args.quiet) as tick:
        result = whatif(
            base,
            variant,
            replicates=args.replicates,
            label=label,
            progress=tick,
            per_replicate=drawn and drawn.scenario,
        )
    if drawn is not None:
        result.summary["posterior"] = drawn.summary()
    result.out = write_whatif(result, out, ["procsim", *sys.argv[1:]])
    print(result.answer["text"] + ".")
    if drawn is not None:
        print(drawn.sentence())
    if not args.quiet:
        s = result.summary
        print(f"outcomes: base {s['outcome']['base']}, what-if {s['outcome']['whatif']} ({len(result.seeds)} seeds)")
        print(f"report: {result.out / 'report.html'}  (spreadsheet: report.xlsx, accounts: accounts.csv)")
    _index(result.out)
    return EXIT_OK


def cmd_accounts(args: argparse.Namespace) -> int:
    from sim.inputs.accounts import read_accounts, template_csv
    from sim.inputs.loading import load_scenario

    if args.accounts_command == "template":
        sys.stdout.write(template_csv(load_scenario(args.scenario)))
        return EXIT_OK
    read_accounts(args.file)  # the file's own problems first, with row and column
    scenario = load_scenario(args.scenario, {"accounts_file": str(args.file.resolve())})
    segments = sorted({a.segment for a in scenario.accounts})
    print(f"ok: {args.file}: {len(scenario.accounts)} accounts in {', '.join(segments)} (scenario {scenario.name})")
    return EXIT_OK
