"""The production compose file as Compose v2 itself resolves it, with an .env that
has every variable `.env.example` names filled in."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import DEPLOY, run, tool

COMPOSE = DEPLOY / "docker-compose.yml"
EXAMPLE = DEPLOY / ".env.example"


def filled_env(directory: Path) -> Path:
    """`.env.example` with a value for every empty variable, as an operator fills it."""
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        empty_password = re.fullmatch(r"[A-Z_]+_PASSWORD=", line)
        lines.append(line + "s3cret-" + line[:-1].lower() if empty_password else line)
    env = directory / ".env"
    env.write_text("\n".join(lines) + "\n")
    return env


def compose_config(env: Path, *extra: str) -> str:
    """Every service, those of a profile (the tools run by hand) too."""
    compose = (tool("docker-compose"), "--env-file", env, "-f", COMPOSE, "--profile", "*")
    return run(*compose, "config", *extra)


@pytest.fixture(scope="session")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return filled_env(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="session")
def stack(env_file: Path) -> dict[str, Any]:
    """`docker compose config --format json`: anchors merged, variables set, paths
    absolute — what Compose would run."""
    resolved: dict[str, Any] = json.loads(compose_config(env_file, "--format", "json"))
    return resolved
