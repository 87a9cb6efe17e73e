"""The floor plan holds: rooms import only what their docstrings allow, nothing
imports in a circle, frameworks stay at the edges, and modules stay small.

Read with `ast`, so a test fails on a new import before anything runs it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "botbuilder"
# What each room may import of botbuilder (besides itself and `errors`), as its
# `__init__` docstring says. `server` and `cli` are the edges: they may import any room.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": {"db"},
    "db": set(),
    "content": set(),
    "matching": {"content"},
    "editing": {"content", "db", "interchange"},
    "interchange": {"content"},
    "passwords": set(),  # the password rules, split from accounts.py
    # content.emails: one e-mail rule for members and users
    "accounts": {"db", "content", "passwords"},
    "people": {"db", "accounts"},  # an admin's changes to accounts (people/)
    "conversations": {"content", "matching", "db"},
    "integrations": {"content", "matching", "conversations", "config"},
    "insights": {"content", "matching", "conversations", "db", "config"},
    "privacy": {"content", "matching", "conversations", "db", "accounts", "insights"},
    "jobs": {
        "content",
        "matching",
        "conversations",
        "db",
        "config",
        "insights",
        "privacy",
        "integrations",
        "accounts",
    },
    "server": {"*"},
    "cli": {"*"},
}
FRAMEWORKS = {"flask": {"server"}, "click": {"cli"}}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> list[str]:
    """Every module this file imports, at any depth (a function-level import still counts)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "botbuilder"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if ".migrations." in name:
            continue
        targets = {t for t in _imports(path) if t in modules and t != name}
        graph[name] = targets
    return graph


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            # A package's __init__ importing its own modules is how a package is built.
            if node == target.rsplit(".", 1)[0] and target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if not state.get(target):
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node)


def test_rooms_import_only_what_they_may() -> None:
    wrong = []
    for name, targets in _graph().items():
        room = _room(name)
        allowed = ALLOWED.get(room, set())
        if "*" in allowed or room == "botbuilder":
            continue
        for target in targets:
            other = _room(target)
            if other not in (room, "errors", "botbuilder") and other not in allowed:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_frameworks_only_at_the_edges() -> None:
    wrong = []
    for name, path in _modules().items():
        for target in _imports(path):
            framework = target.split(".")[0]
            if framework in FRAMEWORKS and _room(name) not in FRAMEWORKS[framework]:
                wrong.append(f"{name} imports {framework}")
    assert not wrong, "\n".join(wrong)


def test_every_room_says_what_lives_there() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init.relative_to(ROOT)} has no docstring"


def test_modules_and_functions_stay_small() -> None:
    big = []
    for name, path in _modules().items():
        if ".migrations" in name:
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES:
            big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    big.append(f"{name}.{node.name}: {length} lines")
    assert not big, "\n".join(big)
