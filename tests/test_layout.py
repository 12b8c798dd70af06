"""The package layout's one-way dependencies (docs/architecture.md), checked on the source: a module may
import only from the packages its own package is allowed to depend on. Imports inside functions count
too (they are how heavy optional dependencies are deferred, not a way around the layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "backends", "policy", "knowledge", "prompts", "agents", "pipelines", "service")
# What each package may import besides itself. Only the service (and the CLI's serve, keys and
# campaign --server commands, which load it lazily) imports pipelines; core imports nothing.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "backends": {"core"},
    "knowledge": {"core"},
    "prompts": {"core"},
    "policy": {"core", "knowledge"},
    "agents": {"core", "backends", "knowledge", "policy", "prompts"},
    "pipelines": {"core", "backends", "knowledge", "policy", "prompts", "agents"},
    "service": {"core", "backends", "knowledge", "policy", "prompts", "agents", "pipelines"},
}
# The command line is the one module of pipelines that starts the service (serve, keys, --server).
ALLOWED_MODULES: dict[str, set[str]] = {"pipelines/cli.py": {"service"}}

pytestmark = pytest.mark.unit


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(PACKAGES)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            _imported_packages(path)
            - ALLOWED[package]
            - ALLOWED_MODULES.get(path.relative_to(ROOT).as_posix(), set())
            - {package}
        )
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {module: names for module, names in wrong.items() if names} == {}
