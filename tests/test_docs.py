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


def test_no_file_keeps_a_merge_conflict():
    """A merge that left its conflict markers in a committed file (a page or a module) never passes."""
    import re
    import subprocess

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False)
    files = [ROOT / name for name in listed.stdout.splitlines()] if listed.returncode == 0 else []
    if not files:  # not a git checkout: the text files of the project's folders
        files = [p for p in ROOT.rglob("*") if p.suffix in {".py", ".md", ".yaml", ".toml", ".html", ".js", ".css"}]
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
    found = []
    for path in files:
        if path.is_file() and path.suffix not in {".png", ".xlsx", ".parquet", ".ico"}:
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            if marker.search(text):
                found.append(str(path.relative_to(ROOT)))
    assert not found, found
