"""The whole project's import graph (issue 14, item 6; issue 34): no cycle, whether its imports sit at the top of
a module or inside functions, and no function-level import that only exists to dodge one.

A function-level import of module T inside module M dodges a cycle when M is reachable from T through
module-level imports: moved to the top, it would close a cycle. A cycle whose imports all sit inside functions
is still a cycle (each module needs the other; it only fails later, at call time): counting every import, the
graph has none either. Other function-level imports are lazy ones (start-up time of `nas --help`, optional
extras) and stay allowed. Parsed with `ast`, so the result does not depend on what is imported already.
`if TYPE_CHECKING:` blocks never run and are left out; importing `a.b.c` also runs `a/__init__` and
`a/b/__init__` (except the importer's own packages, already loading).

The graph code takes a root and its packages, so that the tests at the end can run it on a small planted
package and show that it finds what it should.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nas", "nas_common", "search_spaces", "latency_models", "device_profiles")


@dataclass
class Graph:
    root: Path
    modules: dict[str, Path]  # dotted name → file
    top: dict[str, set[str]]  # module-level project imports (with the packages they run)
    inner: dict[str, list[tuple[int, str]]]  # (line, target) of function-level ones

    def every(self, module: str) -> set[str]:
        """What `module` imports at the top or inside a function (with the packages each import runs)."""
        inner = {m for _, target in self.inner[module] for m in _with_packages(target, module, self.modules)}
        return (self.top[module] | inner) - {module}

    def where(self, module: str) -> str:
        return str(self.modules[module].relative_to(self.root))


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    def name(path: Path) -> str:
        parts = path.relative_to(root).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    return {name(p): p for package in packages for p in sorted((root / package).rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list[str]:
    """The project modules an import statement loads (absolute imports: the project uses no relative ones)."""
    written = [a.name for a in node.names] if isinstance(node, ast.Import) else \
        [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names]
    return [w for w in written if w and w in modules]


def _with_packages(target: str, importer: str, modules: dict[str, Path]) -> set[str]:
    parts = target.split(".")
    chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules)
    own = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return {m for m in chain if m == target or m not in own}


def _imports(module: str, modules: dict[str, Path]) -> tuple[set[str], list[tuple[int, str]]]:
    """(module-level project imports, [(line, target)] of function-level ones)."""
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child, modules):
                    if nested:
                        inner.append((child.lineno, target))
                    else:
                        top.update(_with_packages(target, module, modules))
            visit(child, nested)

    visit(ast.parse(modules[module].read_text()), False)
    top.discard(module)
    return top, inner


def import_graph(root: Path, packages: tuple[str, ...]) -> Graph:
    modules = module_files(root, packages)
    parsed = {m: _imports(m, modules) for m in modules}
    return Graph(root, modules, {m: top for m, (top, _) in parsed.items()},
                 {m: inner for m, (_, inner) in parsed.items()})


def reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for nxt in edges[stack.pop()] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return seen


def top_level_cycles(graph: Graph) -> list[str]:
    """Modules on a cycle of module-level imports."""
    return sorted(m for m in graph.modules if m in reachable(m, graph.top))


def dodges(graph: Graph) -> list[str]:
    """Function-level imports that would close a cycle at the top."""
    return [f"{graph.where(m)}:{line} imports {target}"
            for m, inner in graph.inner.items() for line, target in inner
            if target != m and m in reachable(target, graph.top) | {target}]


def cycles(graph: Graph) -> list[list[str]]:
    """The cycles counting every import, function-level ones included: each a group of modules that import each
    other, directly or not (a strongly connected component), sorted."""
    edges = {m: graph.every(m) for m in graph.modules}
    reach = {m: reachable(m, edges) for m in graph.modules}
    groups = {tuple(sorted(x for x in reach[m] if m in reach[x])) for m in graph.modules if m in reach[m]}
    return sorted(list(g) for g in groups)


def describe(graph: Graph, group: list[str]) -> str:
    """A cycle's imports inside the group, with the line of each function-level one."""
    lines = [f"  {graph.where(m)} imports {t} at the top" for m in group for t in sorted(graph.top[m] & set(group))]
    lines += [f"  {graph.where(m)}:{line} imports {t} inside a function" for m in group
              for line, t in graph.inner[m] if set(_with_packages(t, m, graph.modules)) & set(group) - {m}]
    return f"{', '.join(group)}:\n" + "\n".join(lines)


GRAPH = import_graph(ROOT, PACKAGES)


def test_the_module_level_import_graph_has_no_cycle() -> None:
    cyclic = top_level_cycles(GRAPH)
    assert not cyclic, f"modules on an import cycle: {cyclic}"


def test_no_function_level_import_dodges_a_cycle() -> None:
    found = dodges(GRAPH)
    assert not found, "function-level imports that would close a cycle at the top:\n" + "\n".join(found)


def test_no_cycle_counting_function_level_imports() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles (function-level imports counted):\n" + "\n".join(describe(GRAPH, g)
                                                                                       for g in found)


def _plant(root: Path, files: dict[str, str]) -> Graph:
    for name, text in files.items():
        path = root / "planted" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(root, ("planted",))


def test_a_cycle_made_only_of_function_level_imports_is_found(tmp_path: Path) -> None:
    """Two modules that import each other inside functions: invisible to the module-level checks, found by the
    check that counts every import."""
    graph = _plant(tmp_path, {"__init__.py": "", "a.py": "def f():\n    from planted import b\n    return b\n",
                              "b.py": "def g():\n    from planted.a import f\n    return f\n",
                              "c.py": "from planted import a\n\n\ndef h():\n    from planted import b\n"})
    assert top_level_cycles(graph) == [] and dodges(graph) == []
    assert cycles(graph) == [["planted.a", "planted.b"]]
    assert "planted/b.py:2 imports planted.a inside a function" in describe(graph, cycles(graph)[0])


def test_a_cycle_through_a_package_init_is_found(tmp_path: Path) -> None:
    """A function-level import of `planted.sub.x` also runs `planted/sub/__init__`, which may close the cycle."""
    graph = _plant(tmp_path, {"__init__.py": "", "a.py": "def f():\n    from planted.sub import x\n",
                              "sub/__init__.py": "from planted import a\n", "sub/x.py": ""})
    assert cycles(graph) == [["planted.a", "planted.sub"]]


def test_lazy_imports_without_a_cycle_pass(tmp_path: Path) -> None:
    graph = _plant(tmp_path, {"__init__.py": "", "a.py": "def f():\n    from planted import b\n",
                              "b.py": "import json\n"})
    assert cycles(graph) == [] and top_level_cycles(graph) == [] and dodges(graph) == []
