"""Reading YAML that people write: one guarded loader for scenario, sweep and accounts files.

``yaml.safe_load`` already refuses Python tags, but a hand-made (or hostile) file can
still hurt: a few hundred bytes of nested aliases ("billion laughs") expand to gigabytes
when anything walks the data, deep nesting overflows Python's stack, a binary file fails
to decode, a repeated key silently overrides the first. This loader reads at most
:data:`MAX_BYTES` of UTF-8, refuses duplicate keys, limits the nesting depth and the size
of the data *after* alias expansion (checked on the parsed node graph, before any Python
object is built), and turns every problem into one :class:`~sim.errors.InputError` that
names the file and the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError, clean, excerpt

MAX_BYTES = 1_000_000  # a scenario is ~2 KB and a sweep ~1 KB; accounts files stay far below this
MAX_DEPTH = 24  # deepest real scenario: suppliers.groups[i].spend.quality = 5 levels
MAX_NODES = 200_000  # values after alias expansion (a 1,000 x 100 accounts table is ~100k)
MAX_SET_BYTES = 10_000  # one --set value


class _Limit(yaml.YAMLError):
    """A guard tripped; ``mark`` says where."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that counts nesting while composing and refuses duplicate mapping keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Limit(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise _Limit(f"the key {excerpt(key)} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """Number of values the document holds once every alias is expanded (each shared node counted per use).

    Anchors are defined before their aliases, so walking in document order finds every
    alias target finished (memoised) or still open (a recursive alias): the walk never goes
    deeper than the document's own nesting, however many aliases chain.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def walk(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Limit("an alias refers to the value that contains it (a recursive alias)", node.start_mark)
        open_nodes.add(key)
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(walk(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(walk(k) + walk(v) for k, v in node.value)
        else:
            size = 1
        open_nodes.discard(key)
        if size > MAX_NODES:
            raise _Limit(f"holds more than {MAX_NODES:,} values once its aliases (*name) are expanded", node.start_mark)
        sizes[key] = size
        return size

    return walk(root)


def parse(text: str) -> Any:
    """Parse one YAML document under the guards; raises ``yaml.YAMLError`` (or ValueError) on bad input."""
    loader = _GuardedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def describe(exc: BaseException) -> str:
    """A YAML error in one short line: what is wrong and where."""
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and problem.startswith("but "):
            problem = f"{context} {problem}"
        if "could not determine a constructor for the tag" in problem:
            problem = "tags such as !!python/... are not allowed (plain values only)"
        return f"not valid YAML{where}: {clean(problem, 160)}"
    if isinstance(exc, RecursionError):
        return f"not valid YAML: nested too deeply (at most {MAX_DEPTH} levels)"
    if "Exceeds the limit" in str(exc):
        return "not valid YAML: a number has more digits than Python reads (4,300)"
    return f"not valid YAML: {clean(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 160)}"


def read_text(path: Path, *, limit: int = MAX_BYTES, source: str | None = None) -> str:
    """A file's text: a regular file of at most ``limit`` bytes, decoded as UTF-8 (a leading BOM is dropped)."""
    source = source or str(path)
    try:
        info = path.stat()
        if not os.path.isfile(path):
            raise InputError("is not a regular file", source=source)
        if info.st_size > limit:
            raise InputError(
                f"is {info.st_size:,} bytes; files procsim reads may be at most {limit:,} bytes", source=source
            )
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    if len(data) > limit:
        raise InputError(f"is larger than {limit:,} bytes, the most procsim reads", source=source)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text; save it as UTF-8", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); save it as UTF-8", source=source
        ) from None


def load_mapping(
    path: Path, *, what: str, minimal: str, limit: int = MAX_BYTES, source: str | None = None
) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping of fields (a scenario, a sweep, an accounts file).

    ``what`` names the kind of file in messages; ``minimal`` is the smallest useful file,
    shown when the file is empty; ``source`` is how messages name the file (default: its path).
    """
    source = source or str(path)
    text = read_text(path, limit=limit, source=source)
    try:
        data = parse(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise InputError(describe(exc), source=source) from None
    if data is None:
        raise InputError(f"the file is empty; a minimal {what} file is: {minimal}", source=source)
    if not isinstance(data, dict):
        raise InputError(
            f"a {what} file must be a mapping of fields (key: value), not {_kind(data)}; for example: {minimal}",
            source=source,
        )
    for key in data:
        if not isinstance(key, str):
            raise InputError(f"field names are text, got {excerpt(key)}", source=source)
    return data


def parse_value(text: str, *, source: str, field: str | None = None) -> Any:
    """One value typed on the command line (``--set path=VALUE``), read as YAML under the same guards."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SET_BYTES:
        raise InputError(f"the value is longer than {MAX_SET_BYTES:,} bytes", source=source, field=field)
    try:
        return parse(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise InputError(
            f"cannot read the value {excerpt(text)}: {describe(exc)}", source=source, field=field
        ) from None


def _kind(data: Any) -> str:
    return {list: "a list", str: "a single text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(data), type(data).__name__
    )
