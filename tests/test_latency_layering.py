"""The latency side's import graph: no cycle, no function-level import of the project, layers respected.

Parsed from the source (ast), so the check does not depend on what happens to be imported already. Lazy
imports of heavy third-party libraries (tvm, torch, scipy) inside functions stay allowed: they keep `nas --help`
fast and are no way around a cycle; a function-level import of a project module is what hides one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("nas", "nas_common", "search_spaces", "latency_models", "device_profiles")
CHECKED = ("latency_models", "device_profiles")
# What each checked package may import from the project (DESIGN.md: data flows space → latency → search).
ALLOWED = {"device_profiles": {"nas_common", "search_spaces", "device_profiles"},
           "latency_models": {"nas_common", "search_spaces", "device_profiles", "latency_models"}}


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module imported, inside a function?) for every project import of a module's syntax tree."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, in_function))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            visit(child, nested)

    visit(tree, False)
    return [(name, lazy) for name, lazy in found if name.split(".")[0] in PROJECT]


def _graph(packages: tuple[str, ...] = CHECKED) -> dict[str, list[tuple[str, bool]]]:
    graph = {}
    for package in packages:
        for path in sorted((ROOT / package).glob("*.py")):
            module = f"{package}.{path.stem}" if path.stem != "__init__" else package
            graph[module] = _imports(ast.parse(path.read_text(), str(path)))
    return graph


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt in graph and state.get(nxt) is None and (found := visit(nxt)):
                return found
        state[node], _ = 2, stack.pop()
        return None

    return next((c for node in graph if state.get(node) is None and (c := visit(node))), None)


def test_no_function_level_project_import() -> None:
    lazy = [f"{module} imports {name} inside a function" for module, names in _graph().items()
            for name, in_function in names if in_function]
    assert lazy == []


def test_no_import_cycle_and_layers_respected() -> None:
    """Function-level imports count as edges too: an import moved into a function to dodge a cycle is found."""
    graph = _graph()
    edges = {m: [n for n, _ in names if n in graph or n.split(".")[0] in CHECKED] for m, names in graph.items()}
    # `from device_profiles import x` imports the package's __init__, which imports its modules.
    assert _cycle(edges) is None, _cycle(edges)
    wrong = [f"{m} imports {n}" for m, names in graph.items() for n, _ in names
             if n.split(".")[0] not in ALLOWED[m.split(".")[0]]]
    assert wrong == []


def test_the_checks_see_what_they_check() -> None:
    """The parser finds a function-level import and the cycle search finds a cycle (so the tests can fail)."""
    tree = ast.parse("import os\nfrom device_profiles import host\ndef f():\n    from latency_models import graph\n")
    assert _imports(tree) == [("device_profiles", False), ("latency_models", True)]
    assert _cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert _cycle({"a": ["b"], "b": []}) is None
