"""The package's rooms and which way they may look: the import graph points down only.

    devtools            (tooling: may use anything)
    entrypoints         (the worker loop, the HTTP API, the commands)
    bootstrap           (the one place that names the adapters)
    service | adapters  (use cases and their ports | PostgreSQL, Kafka)
    domain              (the pure engine and the shared types)
    messages            (the wire contracts)

The shell's infrastructure (settings, telemetry, metrics, health) sits beside the service layer
and the adapters and may be used by everything above the domain. Every import counts, at module
level or inside a function, and the graph has no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "clearance"
INFRASTRUCTURE = {"settings", "telemetry", "metrics", "health"}

#: room -> the rooms it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "messages": set(),
    "domain": {"messages"},
    "infrastructure": {"messages", "infrastructure"},
    "adapters": {"domain", "messages", "infrastructure"},
    "service": {"domain", "messages", "infrastructure"},
    "bootstrap": {"adapters", "service", "domain", "messages", "infrastructure"},
    "entrypoints": {"bootstrap", "service", "domain", "messages", "infrastructure"},
    "devtools": {
        "entrypoints",
        "bootstrap",
        "adapters",
        "service",
        "domain",
        "messages",
        "infrastructure",
    },
    "package": {"entrypoints"},  # clearance/__main__.py runs the command line
}


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    top = parts[1]
    if top in INFRASTRUCTURE:
        return "infrastructure"
    if top in {"__main__", "__init__"}:
        return "package"
    return top


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name
            # ``from clearance import messages`` imports the module clearance.messages
            yield from (f"{name}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imports(path):
            if name == "clearance" or not name.startswith("clearance."):
                continue
            while name not in modules and "." in name:  # an attribute: its module
                name = name.rsplit(".", 1)[0]
            # the package itself holds only ``__version__``: anyone may read it
            if name in modules and name not in (module, "clearance"):
                targets.add(name)
        graph[module] = targets
    return graph


GRAPH = _graph()


def test_the_package_has_the_rooms_this_test_knows() -> None:
    assert {_room(module) for module in GRAPH} <= set(ALLOWED)
    assert "clearance.domain.assess" in GRAPH and "clearance.bootstrap" in GRAPH


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_the_rooms_below_it(room: str) -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _room(module) == room
        for target in targets
        if _room(target) != room and _room(target) not in ALLOWED[room]
    )
    assert wrong == [], f"{room} imports what it must not:\n" + "\n".join(wrong)


def test_the_import_graph_has_no_cycle() -> None:
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for target in sorted(GRAPH[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)
