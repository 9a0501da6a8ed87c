from pathlib import Path

from sim.inputs.schema_doc import render

ROOT = Path(__file__).resolve().parent.parent


def test_scenario_reference_matches_the_code():
    """docs/scenarios.md is generated; regenerate with `python -m sim.inputs.schema_doc > docs/scenarios.md`."""
    assert (ROOT / "docs" / "scenarios.md").read_text() == render()


def test_every_strategy_is_documented_in_the_model_docs():
    from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES

    text = (ROOT / "docs" / "model.md").read_text()
    for name in [*SUPPLIER_STRATEGIES, *PROCUREMENT_STYLES]:
        assert f"`{name}`" in text, name


def test_every_model_parameter_is_named_in_the_model_docs():
    """docs/model.md explains every parameter of the scenario schema (by its name, in backticks)."""
    from sim.inputs.schema import CustomerGroup, MarketSettings, NetworkSettings, ProcurementSettings, SupplierGroup

    text = (ROOT / "docs" / "model.md").read_text()
    for model in (SupplierGroup, CustomerGroup, MarketSettings, ProcurementSettings, NetworkSettings):
        missing = [name for name in model.model_fields if f"`{name}`" not in text]
        assert not missing, (model.__name__, missing)


def test_docs_cite_sources_in_the_repository_only():
    """Docs cite sources by their labels in docs/sources.md, never a path outside the repository."""
    import re

    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "notebooks").glob("*.ipynb")]:
        text = path.read_text()
        assert "../shared" not in text, path
        if path.name != "sources.md":
            assert not re.search(r"\b0[0-4]\d_[0-9a-f]{16}\.txt", text), path
