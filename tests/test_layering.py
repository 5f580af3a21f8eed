"""Imports run one way (DESIGN.md): protocol packages depend on nothing of ours but the errors;
the domain on the protocols; adapters on the domain; the command line wires everything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "smetsnet"

#: What each package may import from smetsnet (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "gbcs": {"errors"},
    "smki": {"errors", "gbcs"},
    "duis": {"errors", "gbcs"},
    "wan": {"errors", "gbcs"},
    "hub": {"errors", "gbcs", "duis", "smki", "inventory", "store", "wan", "devices"},
    "client": {"errors", "gbcs", "duis", "smki"},
    "api": {"errors", "gbcs", "duis", "smki", "hub"},
    "inventory": {"errors", "gbcs"},
    "store": {"errors", "gbcs", "inventory"},
    "devices": {"errors", "gbcs", "smki", "inventory"},
    "demo": {"errors", "gbcs"},
    "sim": {
        "errors",
        "gbcs",
        "duis",
        "smki",
        "inventory",
        "store",
        "wan",
        "devices",
        "hub",
        "client",
    },
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "smetsnet" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package: str) -> None:
    root = PACKAGE / package
    files = sorted(root.rglob("*.py")) if root.is_dir() else [PACKAGE / f"{package}.py"]
    assert files, package
    for path in files:
        wrong = _imports(path) - ALLOWED[package] - {package}
        assert not wrong, f"{path.relative_to(PACKAGE)} imports smetsnet.{sorted(wrong)}"


def test_protocol_code_does_no_io() -> None:
    """gbcs is sans-I/O: no files, sockets, databases or clocks inside it."""
    banned = {"socket", "sqlite3", "psycopg", "asyncio", "open", "pathlib", "time", "os"}
    for path in sorted((PACKAGE / "gbcs").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                used = {a.name.split(".")[0] for a in node.names} & banned
                assert not used, f"{path.name} imports {used}"
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in banned, f"{path.name}: {node.module}"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} calls open()"
