"""What production runs is what was tested: the ugc image installs its runtime
packages at the versions of requirements.lock (the ones `make install` put here),
and every image in compose, and the Dockerfile's base, is an exact release."""

from __future__ import annotations

import re
from importlib.metadata import distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.image_lock import pinned, runtime_closure
from tests.deploy.test_compose_stack import Stack
from tests.deploy.tools import ROOT

pytestmark = pytest.mark.deploy

LOCK = ROOT / "requirements.lock"
# A release, not a moving tag: three or more numbers (v1.8.2, 25.8.30.16, 3.12.8-slim).
EXACT = re.compile(r":v?\d+\.\d+\.\d+(\.\d+)?([-+][\w.-]+)?$")


def test_every_runtime_package_installed_here_is_the_one_locked() -> None:
    locked = pinned(LOCK.read_text())
    installed = runtime_closure()

    assert installed, "ugc is installed"
    assert {name: locked.get(name) for name in installed} == installed


def test_the_lock_admits_every_requirement_of_ugc() -> None:
    locked = pinned(LOCK.read_text())
    for line in distribution("ugc").requires or []:
        requirement = Requirement(line)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue  # the local servers and dev tools never reach the image
        name = canonicalize_name(requirement.name)
        assert name in locked, name
        assert requirement.specifier.contains(locked[name], prereleases=True), name


def test_the_image_builds_under_the_lock_from_an_exact_base() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases
    assert all(EXACT.search(base) for base in bases), bases
    assert "--constraint requirements.lock" in dockerfile
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text()


def test_every_image_compose_runs_is_an_exact_release(stack: Stack) -> None:
    for name, service in stack["services"].items():
        image = service["image"]
        if image.startswith("ugc:"):
            continue  # ours, tagged by UGC_RELEASE
        assert EXACT.search(image), f"{name}: {image} moves"
