"""The house's import rule: bot → handlers, scheduler → reports, chat → plans → storage.

Read from the source with `ast`, so a violation fails here before anyone reviews it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What each package may import, besides itself. Nothing imports `bot`.
ALLOWED = {
    "storage": set(),
    "plans": {"storage"},
    "chat": {"plans", "storage"},
    "reports": {"plans", "storage"},
    "handlers": {"chat", "reports", "plans", "storage"},
    "scheduler": {"chat", "reports", "plans", "storage"},
    "bot": {"handlers", "scheduler", "chat", "reports", "plans", "storage"},
}
# Messenger and scheduling libraries stay at the edge.
EDGE_ONLY = {"telegram", "apscheduler", "aiohttp", "tornado"}
EDGE = {"bot"}
# A channel's name as a literal: outside bot/ code asks the channel's Capabilities instead.
CHANNEL_NAME = re.compile(r"""["'](?:telegram|zalo)["']""", re.IGNORECASE)


def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(path: Path) -> set[str]:
    """The absolute module names a file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    """A module imports only its own package and the packages below it."""
    package = name.split(".")[0]
    wrong = sorted(
        target
        for target in imported(MODULES[name])
        if (top := target.split(".")[0]) in ALLOWED
        and top != package
        and top not in ALLOWED[package]
    )
    assert not wrong, f"{name} imports upward or sideways: {wrong}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[0] not in EDGE))
def test_messenger_libraries_stay_in_bot(name: str) -> None:
    """Only bot/ talks to Telegram, Zalo's HTTP stack or the scheduler library."""
    wrong = sorted(t for t in imported(MODULES[name]) if t.split(".")[0] in EDGE_ONLY)
    assert not wrong, f"{name} imports {wrong}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[0] not in EDGE))
def test_no_channel_name_outside_bot(name: str) -> None:
    """Only bot/ names a messenger: the rest renders by Capabilities, never by channel name."""
    found = CHANNEL_NAME.findall(MODULES[name].read_text(encoding="utf-8"))
    assert not found, f"{name} names a channel: {found}"


def test_no_import_cycles() -> None:
    """The module graph has no cycle (module-level and function-level imports alike)."""
    graph = {
        name: {t for t in imported(path) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        if node in stack:
            cycle = stack[stack.index(node) :] + [node]
            pytest.fail("import cycle: " + " → ".join(cycle))
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, [*stack, node])
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
