"""The one-way flow of docs/architecture.md, as a test: every import in src/entangle (module level or
inside a function; not ``if TYPE_CHECKING:`` blocks, which are type hints only) goes from a layer to
the same layer or a lower one, and no modules import each other in a circle.

Layers, lowest first: registry -> sources -> store -> units (geo) -> panel (and measures) ->
estimate (and mechanisms, simulate) -> report -> main job (pipeline, study, quick, api, cli).
``entangle`` itself (the version), ``errors``, ``atomic``, ``bounds``, ``display`` and
``interrupts`` are the floor every layer stands on, with two pure helpers that live beside their
main users but serve lower layers too: ``geo.distance`` (great-circle km; the deployment loaders
match sites by it), ``geo.outlines`` (the bundled country outlines; ingest checks coordinates
against the theatre's) and ``panel.periods`` (calendar periods; units assign events to them).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = [
    (
        "base",
        [
            "entangle",
            "entangle.errors",
            "entangle.atomic",
            "entangle.bounds",
            "entangle.display",
            "entangle.interrupts",
            "entangle.geo.distance",
            "entangle.geo.outlines",
            "entangle.panel.periods",
        ],
    ),
    ("registry", ["entangle.registry"]),
    ("sources", ["entangle.sources"]),
    ("store", ["entangle.store"]),
    ("units", ["entangle.geo"]),
    ("panel", ["entangle.panel", "entangle.measures"]),
    ("estimate", ["entangle.estimate", "entangle.mechanisms", "entangle.simulate"]),
    ("report", ["entangle.report"]),
    ("main", ["entangle.pipeline", "entangle.study", "entangle.quick", "entangle.api", "entangle.cli"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """Index of the module's layer: the longest prefix listed wins (``entangle`` is the floor)."""
    best, rank = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer: add it to LAYERS"
    return rank


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path, modules: set[str], text: str | None = None) -> list[tuple[int, str]]:
    """(line, entangle module) for every runtime import in ``path`` (or in ``text``, read as if it
    were that file), resolved to a known module."""
    tree = ast.parse(path.read_text() if text is None else text, str(path))
    skip = _type_checking_lines(tree)
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from entangle.x import y`: y may be a submodule (entangle.x.y) or a name in entangle.x
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for target in targets:
            if target == "entangle" or target.startswith("entangle."):
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target != here:
                    found.append((node.lineno, target))
    return found


def _graph() -> tuple[dict[str, list[tuple[int, str]]], dict[str, Path]]:
    paths = {module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(paths)
    return {m: imports_of(p, modules) for m, p in paths.items()}, paths


def test_every_module_has_a_layer():
    graph, _ = _graph()
    for module in graph:
        layer_of(module)


def test_imports_flow_one_way():
    graph, paths = _graph()
    upward = []
    for module, imports in sorted(graph.items()):
        for line, target in imports:
            if layer_of(target) > layer_of(module):
                upward.append(
                    f"{paths[module].relative_to(SRC)}:{line}: {LAYERS[layer_of(module)][0]} module {module} "
                    f"imports {LAYERS[layer_of(target)][0]} module {target}"
                )
    assert not upward, "imports against the flow:\n" + "\n".join(upward)


def _circles(graph: dict[str, list[tuple[int, str]]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {m: sorted({t for _, t in imports if t in graph}) for m, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_circles():
    graph, _ = _graph()
    circles = _circles(graph)
    assert not circles, "modules importing each other in a circle: " + "; ".join(
        " <-> ".join(sorted(c)) for c in circles
    )


def test_the_scanner_sees_an_upward_import():
    # The test that guards the flow must itself be able to fail: a store module importing the panel
    # inside a function is caught; a TYPE_CHECKING import is not a dependency.
    modules = {"entangle.store", "entangle.panel", "entangle.panel.build", "entangle.errors"}
    text = (
        "from typing import TYPE_CHECKING\n"
        "from entangle.errors import InputError\n"
        "if TYPE_CHECKING:\n    from entangle.panel import build\n"
        "def f():\n    from entangle.panel.build import PanelSpec\n"
    )
    found = imports_of(SRC / "entangle" / "store.py", modules, text)
    assert found == [(2, "entangle.errors"), (6, "entangle.panel.build")]
    assert layer_of("entangle.panel.build") > layer_of("entangle.store")
    assert _circles({"a": [(1, "b")], "b": [(1, "a")], "c": [(1, "a")]}) == [frozenset({"a", "b"})]
