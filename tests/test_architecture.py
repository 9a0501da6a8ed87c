"""The package's structure stays as docs/architecture.md draws it: layers import downwards, nothing in circles.

Every import under sim/ counts, including those inside functions (lazy imports); only
imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

# Layers from the bottom up; a module may import its own package and the layers below it.
# Applications share a layer and never import one another.
LAYERS = {
    "sim.errors": 0,
    "sim.version": 0,
    "sim.engine": 1,
    "sim.inputs": 2,
    "sim.runs": 3,
    "sim.reports": 4,
    "sim.whatif": 5,
    "sim.compare": 5,
    "sim.experiments": 5,
    "sim.dashboard": 5,
    "sim.game": 5,
    "sim.calibration": 5,
    "sim.api": 6,
    "sim.studio": 6,  # serves what-ifs, so it sits above the applications
    "sim.cli": 7,
    "sim": 8,  # the package's own __init__ and __main__: the public entry points
    "sim.__main__": 8,
}
MAX_LINES = 700
MAX_TOP_LEVEL = 10


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def imported_modules(name: str) -> set[str]:
    """The sim modules ``name`` imports (a name imported from a package counts as its submodule if it is one)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for dotted in targets:
            target = dotted
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name and target.split(".")[0] == "sim":
                out.add(target)
    return out


GRAPH = {name: imported_modules(name) for name in MODULES}


def layer_of(name: str) -> tuple[str, int]:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    raise AssertionError(f"{name} belongs to no layer: add its package to LAYERS and to docs/architecture.md")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_every_module_belongs_to_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_import_cycles_between_modules():
    assert cycles(GRAPH) == []


def test_layers_import_downwards_only():
    upward = []
    for name, targets in GRAPH.items():
        package, rank = layer_of(name)
        for target in targets:
            other, other_rank = layer_of(target)
            if other == package:
                continue
            if other_rank > rank or (other_rank == rank and other != package):
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_no_cycles_between_packages():
    packages: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        packages.setdefault(layer_of(name)[0], set()).update(layer_of(t)[0] for t in targets)
    graph = {p: {t for t in targets if t != p} for p, targets in packages.items()}
    for p in list(graph):
        for t in graph[p]:
            graph.setdefault(t, set())
    assert cycles(graph) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_a_readable_size(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (docs/architecture.md)"


def test_few_modules_at_the_top_level():
    top = sorted(p.name for p in SIM.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_every_package_says_what_lives_there_and_what_it_may_import():
    for init in SIM.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 20, f"{init.relative_to(SIM.parent)} needs a docstring paragraph"
        assert "import" in doc, f"{init.relative_to(SIM.parent)}: say what the package may import"


def test_a_cycle_and_an_upward_import_are_caught():
    """The checks themselves: a planted cycle and a planted upward import are found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert layer_of("sim.engine.model")[1] < layer_of("sim.reports.pages")[1]


def test_the_architecture_page_names_every_layer():
    page = (SIM.parent / "docs" / "architecture.md").read_text()
    for package in LAYERS:
        if package not in ("sim", "sim.__main__"):
            assert f"`{package}`" in page, f"docs/architecture.md does not name {package}"
