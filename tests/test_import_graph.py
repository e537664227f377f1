"""The whole project's import graph (issue 14, item 6): no module-level cycle, and no function-level import
that only exists to dodge one.

A function-level import of module T inside module M dodges a cycle when M is reachable from T through
module-level imports: moved to the top, it would close a cycle. Other function-level imports are lazy ones
(start-up time of `nas --help`, optional extras) and stay allowed. Parsed with `ast`, so the result does not
depend on what is imported already. `if TYPE_CHECKING:` blocks never run and are left out; importing
`a.b.c` also runs `a/__init__` and `a/b/__init__` (except the importer's own packages, already loading).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nas", "nas_common", "search_spaces", "latency_models", "device_profiles")


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules an import statement loads (absolute imports: the project uses no relative ones)."""
    written = [a.name for a in node.names] if isinstance(node, ast.Import) else \
        [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names]
    return [w for w in written if w and w in MODULES]


def _with_packages(target: str, importer: str) -> set[str]:
    parts = target.split(".")
    chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(MODULES)
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return {m for m in chain if m == target or m not in own}


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(module-level project imports, [(line, target)] of function-level ones)."""
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child):
                    if nested:
                        inner.append((child.lineno, target))
                    else:
                        top.update(_with_packages(target, module))
            visit(child, nested)

    visit(ast.parse(MODULES[module].read_text()), False)
    top.discard(module)
    return top, inner


GRAPH = {m: _imports(m) for m in MODULES}


def _reachable(start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for nxt in GRAPH[stack.pop()][0] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return seen


def test_the_module_level_import_graph_has_no_cycle() -> None:
    cyclic = sorted(m for m in MODULES if m in _reachable(m))
    assert not cyclic, f"modules on an import cycle: {cyclic}"


def test_no_function_level_import_dodges_a_cycle() -> None:
    dodges = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {target}"
              for m, (_, inner) in GRAPH.items() for line, target in inner
              if target != m and m in _reachable(target) | {target}]
    assert not dodges, "function-level imports that would close a cycle at the top:\n" + "\n".join(dodges)

