import pytest
import yaml

from sim.engine.schedule import Schedule
from sim.errors import InputError
from sim.inputs.loading import build_scenario, list_scenarios, load_scenario
from sim.inputs.overrides import parse_override

from .conftest import SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_bundled_scenario_loads_and_round_trips(name, tmp_path):
    scenario = load_scenario(name)
    assert scenario.description, "procsim list shows the description"
    path = tmp_path / "resolved.yaml"
    path.write_text(scenario.to_yaml())
    again = load_scenario(path)
    assert again.model_dump() == {**scenario.model_dump(), "name": again.name}


def test_the_issue_lists_eight_story_scenarios():
    assert {
        "baseline",
        "procurement_squeeze",
        "hold_the_line",
        "gifts_not_discounts",
        "reciprocal_partnership",
        "bidding_war",
        "parity_contagion",
        "supplier_exit_redesign",
    } <= set(SCENARIOS)
    assert [n for n, _, _ in list_scenarios()][:1] == ["baseline"]


def test_extends_merges_sections_key_by_key():
    squeeze = load_scenario("procurement_squeeze")
    assert squeeze.customers[0].procurement.style == "cost_down"
    assert squeeze.customers[0].procurement.savings_target == pytest.approx(0.10)
    assert squeeze.suppliers[0].gross_margin == pytest.approx(0.45)  # inherited from baseline
    assert squeeze.customers[0].count == 300


@pytest.mark.parametrize(
    "path, value",
    [
        ("periods", 12),
        ("seed", 9),
        ("suppliers.count", 2),
        ("customers.count", 20),
        ("customers.procurement.savings_target", 0.08),
        ("customers.procurement.style", "opportunist"),
        ("customers.engagement", 0.7),
        ("suppliers.strategy", "hold"),
        ("suppliers.concession_rate", 0.3),
        ("suppliers.margin_defense", 0.9),
    ],
)
def test_documented_dotted_paths_work_with_set(path, value):
    scenario = load_scenario("baseline", {path: value})
    node = scenario
    head, *rest = path.split(".")
    node = getattr(scenario, head)
    if isinstance(node, list):
        node = node[0]
    for part in rest:
        node = getattr(node, part)
    assert node == value


def test_a_value_on_suppliers_applies_to_every_group():
    war = load_scenario("bidding_war", {"suppliers.strategy": "hold", "customers.count": 10})
    assert {g.strategy for g in war.suppliers} == {"hold"}
    assert [g.count for g in war.customers] == [10, 10]
    one = load_scenario("bidding_war", {"suppliers.groups.challenger.strategy": "boulware"})
    assert [g.strategy for g in one.suppliers] == ["boulware", "hold"]


def test_levers_accept_schedules_in_yaml_and_from_the_command_line():
    path, value = parse_override("customers.procurement.savings_target={0: 0.08, 12: 0.0}")
    scenario = load_scenario("procurement_squeeze", {path: value})
    lever = scenario.customers[0].procurement.savings_target
    assert isinstance(lever, Schedule) and lever.as_dict() == {0: 0.08, 12: 0.0}


def test_percent_strings_are_shares():
    scenario = build_scenario({"suppliers": {"gross_margin": "38%", "spend": {"innovation": "12.5%"}}})
    assert scenario.suppliers[0].gross_margin == pytest.approx(0.38)
    assert scenario.suppliers[0].spend.innovation == pytest.approx(0.125)


def test_procurement_style_fills_only_blank_fields():
    scenario = build_scenario({"customers": {"procurement": {"style": "cost_down", "value_pressure": 1.5}}})
    p = scenario.customers[0].procurement
    assert p.value_pressure == 1.5 and p.savings_target == pytest.approx(0.05)
    assert scenario.customers[0].engagement == pytest.approx(0.45)


@pytest.mark.parametrize(
    "raw, field, words",
    [
        ({"suppliers": {"stratgy": "hold"}}, "suppliers.stratgy", "did you mean 'strategy'"),
        (
            {"customers": {"procurement": {"savings_targt": 0.1}}},
            "customers.procurement.savings_targt",
            "savings_target",
        ),
        ({"suppliers": {"margin_defense": 1.5}}, "suppliers.margin_defense", "between 0 and 1"),
        ({"suppliers": {"gross_margin": 45}}, "suppliers.gross_margin", "write 45% or 0.45"),
        ({"suppliers": {"strategy": "conced"}}, "suppliers.strategy", "did you mean 'concede'"),
        ({"customers": {"procurement": {"style": "cheap"}}}, "customers.procurement.style", "choose from"),
        ({"suppliers": {"count": 0}}, "suppliers.count", "at least one supplier"),
        (
            {"customers": {"procurement": {"savings_target": {3: 0.1}}}},
            "customers.procurement.savings_target",
            "start at period 0",
        ),
        ({"market": {"fair_band": [0.6, 0.4]}}, "market.fair_band", "lower bound"),
        ({"periods": "ten"}, "periods", "integer"),
        ({"peroids": 10}, "peroids", "did you mean 'periods'"),
        ({"suppliers": {"groups": [{"name": "a"}, {"name": "a"}]}}, "suppliers.groups", "unique"),
    ],
)
def test_invalid_input_names_the_field_and_says_what_is_wrong(raw, field, words):
    with pytest.raises(InputError) as err:
        build_scenario(raw, source="my.yaml")
    assert err.value.source == "my.yaml"
    assert err.value.field == field
    assert words in err.value.message


def test_file_problems_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("suppliers: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML at line"):
        load_scenario(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(InputError, match="mapping"):
        load_scenario(bad)
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop\n")
    with pytest.raises(InputError, match="cycle"):
        load_scenario(loop)
    with pytest.raises(InputError, match="did you mean 'baseline'"):
        load_scenario("baselin")


def test_bad_overrides_are_input_errors():
    with pytest.raises(InputError, match="path=value"):
        parse_override("customers.count")
    with pytest.raises(InputError, match="no group named"):
        load_scenario("bidding_war", {"suppliers.groups.nobody.count": 1})
    with pytest.raises(InputError) as err:
        load_scenario("baseline", {"suppliers.margin_defence": 0.5})
    assert "did you mean 'margin_defense'" in err.value.message and "--set" in err.value.source


def test_resolved_yaml_is_plain_data():
    data = yaml.safe_load(load_scenario("bidding_war").to_yaml())
    assert data["suppliers"]["groups"][0]["name"] == "challenger"
