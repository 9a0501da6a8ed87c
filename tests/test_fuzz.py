"""Fuzzing the contract: whatever a scenario file or a --set value holds, procsim either runs and
writes every output (exit 0) or refuses with one message and writes nothing (exit 2); never an
internal error (exit 1), never a traceback.

The documents mix real field names with typos and junk, and values of every type (numbers
at and beyond their bounds, NaN and infinity, booleans, percent strings, schedules, text
with control characters, nested lists). CI runs a fixed, bounded set of examples
(derandomised); set PROCSIM_FUZZ_EXAMPLES=500 to explore more, with fresh randomness.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main

EXAMPLES = int(os.environ.get("PROCSIM_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="PROCSIM_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OUTPUTS = ("summary.json", "timeseries.csv", "agents.parquet", "scenario.yaml", "manifest.json", "report.html")

PATHS = (
    "name",
    "description",
    "seed",
    "periods",
    "periods_per_year",
    "currency",
    "market.contract_cycle",
    "market.negotiation_rounds",
    "market.ratchet",
    "market.fair_band",
    "market.outside_option",
    "market.network.degree",
    "market.network.kind",
    "suppliers.count",
    "suppliers.strategy",
    "suppliers.gross_margin",
    "suppliers.margin_defense",
    "suppliers.walk_away_periods",
    "suppliers.spend.innovation",
    "suppliers.cut_order",
    "suppliers.target_margin",
    "customers.count",
    "customers.annual_revenue",
    "customers.engagement",
    "customers.procurement.style",
    "customers.procurement.savings_target",
    "customers.procurement.max_discount",
    "customers.groups",
    "suppliers.groups",
    "outlook_periods",
    "interventions",
    "accounts",
    "extends",
    "peroids",
    "suppliers.stratgy",
)

scalars = st.one_of(
    st.integers(min_value=-5, max_value=60),
    st.sampled_from([0, 1, 2, 10**6, 10**7, 2**32, -(2**63), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.booleans(),
    st.none(),
    st.sampled_from(["8%", "45%", "145%", "abc%", "1_000", "hold", "concede", "cost_down", "baseline", "", "yes"]),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.integers(-2, 40), st.sampled_from(["name", "count", "a"])), inner, max_size=3),
    ),
    max_leaves=8,
)


def nest(flat: dict[str, object]) -> dict[str, object]:
    """Dotted paths to nested mappings (a later path that collides with a value is dropped)."""
    out: dict[str, object] = {}
    for path, value in flat.items():
        node = out
        *heads, last = path.split(".")
        for head in heads:
            child = node.setdefault(head, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[last] = value
    return out


documents = st.dictionaries(st.sampled_from(PATHS), values, max_size=6).map(nest)
small = st.fixed_dictionaries(
    {"customers.count": st.integers(1, 40), "periods": st.integers(1, 10), "outlook_periods": st.integers(0, 20)}
)


def check(args: list[str], out: Path) -> None:
    """Run procsim and check the contract."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse
            code = exc.code
    text = err.getvalue()
    event(f"exit {code}")
    assert "Traceback" not in text, text
    assert code in (0, 2), f"exit {code}: {text}"
    if code == 0:
        for name in OUTPUTS:
            assert (out / name).is_file(), name
    else:
        assert text.count("procsim: error:") == 1, text
        assert not out.exists()
        assert not list(out.parent.glob(".*partial*"))


@FUZZ
@given(document=documents, size=small, base=st.sampled_from(["baseline", "bidding_war", None]))
def test_any_scenario_document_runs_or_is_refused_cleanly(document, size, base):
    if base is not None and "extends" not in document:
        document = {"extends": base, **document}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "fuzz.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        out = folder / "out"
        # Keep the runs that pass validation small; the fuzzed sizes still meet the validation.
        sets = [f"{k}={v}" for k, v in size.items() if k.split(".")[0] not in document]
        check(["run", str(path), "--out", str(out), "--quiet", "--no-counterfactual", *_set(sets)], out)


override_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["true", "8%", "{0: 0.1, 12: 0}", "{5: 0.1}", "[0.4, 0.6]", "1e400", ".nan", "&a [*a]", "[[[[1]]]]"]
    ),
    st.integers(-10, 10**8).map(str),
    st.floats(allow_nan=True).map(repr),
)


@FUZZ
@given(
    sets=st.lists(st.tuples(st.sampled_from(PATHS), override_values), max_size=4),
    size=small,
)
def test_any_set_value_runs_or_is_refused_cleanly(sets, size):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        given_paths = {p for p, _ in sets}
        pairs = [f"{p}={v}" for p, v in sets] + [f"{k}={v}" for k, v in size.items() if k not in given_paths]
        check(["run", "procurement_squeeze", "--out", str(out), "--quiet", "--no-counterfactual", *_set(pairs)], out)


def _set(pairs: list[str]) -> list[str]:
    return [item for pair in pairs for item in ("--set", pair)]
