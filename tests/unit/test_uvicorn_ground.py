"""What ugc takes from uvicorn's internals lives in one module, pinned to the
release it was tested with, and an incompatible release fails loudly at start."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from ugc.web import uvicorn_protocol
from ugc.web.uvicorn_protocol import TESTED_MINOR, IncompatibleUvicorn, check_uvicorn

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]


def test_the_installed_uvicorn_is_the_tested_one() -> None:
    check_uvicorn()


@pytest.mark.parametrize("release", ["0.30.6", "1.0.0"])
def test_another_release_is_refused_saying_what_to_do(
    monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    monkeypatch.setattr(uvicorn_protocol, "version", lambda _name: release)

    with pytest.raises(IncompatibleUvicorn, match=r"install uvicorn==\d+\.\d+\.\*"):
        check_uvicorn()


def test_a_release_without_a_hook_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(uvicorn_protocol.HttpToolsProtocol, "on_body")

    with pytest.raises(IncompatibleUvicorn, match="on_body"):
        check_uvicorn()


def test_the_pin_is_the_tested_minor() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (pin,) = [d for d in project["dependencies"] if d.startswith("uvicorn")]
    major, minor = TESTED_MINOR
    assert re.search(rf">={major}\.{minor},<{major}\.{minor + 1}$", pin), pin


def test_only_one_module_imports_uvicorns_internals() -> None:
    importers = set()
    for module in (ROOT / "src" / "ugc").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "uvicorn.protocols"
            ):
                importers.add(module.relative_to(ROOT / "src").as_posix())
    assert importers == {"ugc/web/uvicorn_protocol.py"}
