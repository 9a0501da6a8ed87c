"""The plain-words story: every sum a sentence implies adds up, and no sentence contradicts the badge."""

import re

import pytest

from sim.reports.story import OUTCOME_WORDS, STATE_WORDS, story
from sim.runs.runner import run_scenario

from .conftest import SCENARIOS, bundled

UNIT = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
MONEY = re.compile(r"(-?)EUR (\d[\d,]*(?:\.\d+)?)([kMBT]?)")


def amounts(sentence: str) -> list[float]:
    """Every money figure in a sentence, as printed (in currency units)."""
    return [
        (-1 if sign else 1) * float(num.replace(",", "")) * UNIT[unit] for sign, num, unit in MONEY.findall(sentence)
    ]


def signed(sentence: str) -> list[float]:
    """Money figures followed by 'lower' count as negative, by 'higher' as positive."""
    out = []
    for match in re.finditer(MONEY.pattern + r" (lower|higher)", sentence):
        sign, num, unit, word = match.groups()
        value = float(num.replace(",", "")) * UNIT[unit]
        out.append(-value if (word == "lower") != bool(sign) else value)
    return out


WHATIFS = [
    ("baseline", {"customers.procurement.savings_target": 0.04}),
    ("baseline", {"customers.procurement.savings_target": 0.10}),
    ("baseline", {"customers.procurement.style": "opportunist"}),
    ("baseline", {"suppliers.initial_capability": 0.7}),
    ("procurement_squeeze", {"suppliers.strategy": "value_trade", "suppliers.gift_cost_ratio": 1.0}),
    ("procurement_squeeze", {"suppliers.margin_defense": 0.9, "periods": 24}),
    ("bidding_war", {"suppliers.groups.challenger.acquisition_discount": 0.25}),
    ("parity_contagion", {"suppliers.walk_away_periods": 8}),
]


@pytest.fixture(scope="module", params=[(name, {}) for name in SCENARIOS] + WHATIFS, ids=str)
def told(request):
    name, overrides = request.param
    result = run_scenario(bundled(name, overrides), seed=1)
    return result, story(result.summary, result.timeseries, result.scenario)


def test_profit_and_value_reconcile_in_the_printed_figures(told):
    _, lines = told
    (ledger,) = [line for line in lines if "profit (cash) was" in line and "value they kept" in line]
    profit, value, engagement, overhead, drawn = amounts(ledger)
    sign = 1 if "plus the capability capital drawn down" in ledger else -1
    assert profit == pytest.approx(value - engagement - overhead + sign * drawn, abs=1e-6 * max(abs(value), 1))


def test_the_counterfactual_values_add_up_to_the_joint_value(told):
    result, lines = told
    found = [line for line in lines if line.startswith("Against the same market without discounts")]
    if not found:
        assert result.summary["metrics"]["discount_max"] <= 0.001 or "counterfactual" not in result.summary
        return
    _profit, joint, supplier, customer = signed(found[0])
    assert joint == pytest.approx(supplier + customer, abs=1e-6 * max(abs(joint), 1))


def test_no_sentence_contradicts_the_badge(told):
    result, lines = told
    s = result.summary
    assert lines[0].startswith(OUTCOME_WORDS[s["outcome"]])
    if s.get("outlook"):
        assert lines[1].startswith(STATE_WORDS[s["outcome"]] if s["outcome"] != "collapse" else "Collapsed")
    text = " ".join(lines)
    if s["outcome"] in ("spiral", "collapse"):
        assert "kept investing what their plans called for" not in text
    if "stayed within the fair band" in text:
        assert s["metrics"]["spiral_onset"] is None and 0.4 <= s["metrics"]["balance_final"] <= 0.6
    if "at this pace the market collapses" in text:
        assert s["outlook"] == "collapse" and s["outcome"] != "collapse"


def test_a_cost_structure_that_loses_money_at_list_price_is_flagged():
    from sim.reports.story import loss_warnings

    (warning,) = loss_warnings(bundled("baseline", {"suppliers.gross_margin": 0.38}))
    assert "loses money before any discount" in warning and "-1.0%" in warning
    assert loss_warnings(bundled("baseline")) == []
