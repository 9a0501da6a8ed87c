from pathlib import Path

from sim.schema_doc import render

ROOT = Path(__file__).resolve().parent.parent


def test_scenario_reference_matches_the_code():
    """docs/scenarios.md is generated; regenerate with `python -m sim.schema_doc > docs/scenarios.md`."""
    assert (ROOT / "docs" / "scenarios.md").read_text() == render()


def test_every_strategy_is_documented_in_the_model_docs():
    from sim.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES

    text = (ROOT / "docs" / "model.md").read_text()
    for name in [*SUPPLIER_STRATEGIES, *PROCUREMENT_STYLES]:
        assert f"`{name}`" in text, name
