"""The import rules of docs/architecture.md: floors, no loops between subpackages, and a library
that reads no repository path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "avici_core"
FLOORS = {  # docs/architecture.md, "Floors"
    "config": 0,
    "io": 0,
    "types": 0,
    "cli": 0,
    "seeds": 0,
    "allocator": 0,
    "dataset": 1,
    "prediction": 1,
    "data": 2,
    "metrics": 2,
    "model": 3,
    "baselines": 4,
    "report": 4,
    "cgm": 5,
    "plan": 5,
}
TOP = {"__init__", "__main__"}  # the package's entry points may import anything


def unit(path: Path) -> str:
    """The subpackage (or ground-floor module) a source file belongs to."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    """Every avici_core unit a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "avici_core":  # from avici_core import data
                names = [f"avici_core.{a.name}" for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("avici_core.")}
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_floor():
    assert {unit(p) for p in SOURCES} - TOP <= set(FLOORS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_down_the_floors(path: Path):
    own = unit(path)
    if own in TOP:
        return
    for target in imported_units(path) - {own}:
        assert FLOORS[target] < FLOORS[own], (
            f"{path.relative_to(PACKAGE)} ({own}, floor {FLOORS[own]}) imports {target} "
            f"(floor {FLOORS[target]}); see docs/architecture.md"
        )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_library_reads_no_repository_path(path: Path):
    text = path.read_text()
    assert "parents[1]" not in text and "parents[2]" not in text, "finds files above the package"
    assert "workflow/schemas" not in text and '"workflow"' not in text
