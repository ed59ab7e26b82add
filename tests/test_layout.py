"""The code's layout holds what docs/architecture.md promises: no import cycle between
the modules of a package (imports inside functions count), no application module over
about 500 lines, and no module reaching into another's private (`_name`) names."""

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
APPS = ("securecloud", "hierarchy", "clients")
MAX_LINES = 500


def _application_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def _cycle_among_siblings(graph: grimp.ImportGraph, package: str) -> list[str] | None:
    siblings = sorted(graph.find_children(package))
    imports = {
        sibling: [
            other
            for other in siblings
            if other != sibling
            and graph.direct_import_exists(importer=sibling, imported=other, as_packages=True)
        ]
        for sibling in siblings
    }
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in imports[module]:
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for sibling in siblings:
        cycle = visit(sibling, [])
        if cycle:
            return cycle
    return None


def test_the_modules_of_a_package_import_one_way():
    graph = grimp.build_graph(*APPS, include_external_packages=False)
    packages = sorted(module for module in graph.modules if graph.find_children(module))
    cycles = {package: _cycle_among_siblings(graph, package) for package in packages}
    assert {package: cycle for package, cycle in cycles.items() if cycle} == {}


def test_no_application_module_is_over_about_500_lines():
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in _application_modules()
    }
    assert {path: lines for path, lines in lengths.items() if lines > MAX_LINES} == {}


def _private_imports(path: Path) -> list[str]:
    """`from x import _y`, and `x._y` where `x` is a module of the project."""
    tree = ast.parse(path.read_text())
    modules = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
                elif node.module.split(".")[0] in APPS:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name for alias in node.names)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr != "_meta"  # Django's public model API
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    borrowing = {
        str(path.relative_to(ROOT)): found
        for path in _application_modules()
        if (found := _private_imports(path))
    }
    assert borrowing == {}
