"""The house: no import runs back up the package order, and no module is too long."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).parents[2] / "src" / "ugc"

# Lower layers first. A module may import its own package and the layers below
# its own; packages of one layer never import each other.
LAYERS = [
    {"settings", "errors"},
    {"observability"},
    {"problems"},
    {"auth"},
    {"web"},
    {"events", "devstack"},
    {"warehouse"},  # stores the events of the contract
    {"loader", "analytics", "content"},
    {"privacy", "backup"},  # a person's data, and all of it, across the stores
    {"research"},
    {"cli"},
    {"__main__"},
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
MAX_LINES = 300


def package_of(module: Path) -> str:
    return module.relative_to(SRC).parts[0].removesuffix(".py")


def imported_packages(module: Path) -> set[str]:
    """The ugc packages a module imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ugc" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


def test_every_package_has_a_place_in_the_order() -> None:
    assert {package_of(m) for m in MODULES} <= set(RANK)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(SRC)))
def test_no_import_runs_back_up(module: Path) -> None:
    own = package_of(module)
    upward = {
        package
        for package in imported_packages(module)
        if package != own and RANK.get(package, len(LAYERS)) >= RANK[own]
    }
    assert upward == set(), f"{own} may only import from below its layer"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(SRC)))
def test_modules_stay_small_enough_to_read(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= MAX_LINES


def test_the_order_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself: events importing analytics is found."""
    module = tmp_path / "events_mod.py"
    module.write_text("def f():\n    from ugc.analytics.app import open_analytics_service\n")
    assert imported_packages(module) == {"analytics"}
    assert RANK["analytics"] >= RANK["events"]
