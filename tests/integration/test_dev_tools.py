"""The tools and the README's tour against a running `ugc dev`, as a newcomer runs
them: a token made in a subfolder is accepted, and every command of the tour
works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ugc.devstack.processes import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.integration

README = Path(__file__).parents[2] / "README.md"
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("UGC_")}


@dataclass
class Running:
    base: str
    folder: Path  # where `ugc dev` was started: its data directory is `.ugc` there


def _ready(base: str, process: ManagedProcess) -> bool:
    process.check_alive()
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def dev_here(tmp_path: Path) -> Iterator[Running]:
    """`ugc dev --ephemeral` started in a folder of its own, as `make run` is."""
    ports = {f"UGC_DEV_{part}_PORT": str(free_port()) for part in ("KAFKA", "MONGO")}
    env = {**CLEAN, **ports, "UGC_DEV_OBJECT_STORE_PORT": str(free_port())}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "ugc", "dev", "--ephemeral", "--port", str(port)]
    dev = ManagedProcess("ugc-dev", argv, tmp_path / "ugc-dev.log", env=env, cwd=tmp_path)
    dev.start()
    try:
        wait_until(lambda: _ready(base, dev), timeout=90, what="ugc dev")
        yield Running(base, tmp_path)
    finally:
        dev.stop(timeout=60)


def test_a_token_made_in_a_subfolder_is_accepted_by_the_running_platform(
    dev_here: Running,
) -> None:
    elsewhere = dev_here.folder / "notes" / "today"
    elsewhere.mkdir(parents=True)
    made = subprocess.run(
        [sys.executable, "-m", "ugc", "token", "--sub", str(uuid.uuid4())],
        cwd=elsewhere, env=CLEAN, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1.0}
    sent = httpx.post(
        f"{dev_here.base}/api/v1/events",
        json=event,
        headers={"Authorization": f"Bearer {made.stdout.strip()}"},
        timeout=10,
    )

    assert sent.status_code == 202, sent.text
    assert "another key" not in made.stderr
    assert not (elsewhere / ".ugc").exists()


def tour() -> str:
    """The shell block of the README's tour, as written."""
    text = README.read_text()
    found = re.search(r"## A five-minute tour\n.*?```sh\n(.*?)```", text, re.DOTALL)
    assert found, "the README has its tour"
    return found.group(1)


def test_every_command_of_the_readme_tour_runs(dev_here: Running) -> None:
    script = tour()
    assert script.count("curl ") >= 9  # an event, a rating, a review, a bookmark, read back
    script = script.replace(".venv/bin/ugc", f'"{sys.executable}" -m ugc')
    script = script.replace("http://127.0.0.1:8000", dev_here.base)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", f"set -x\n{script}"],
        cwd=dev_here.folder, env=CLEAN, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    for read_back in ('"position_sec":754', '"my_score":8', "stays with you", '"total":1'):
        assert read_back in done.stdout, read_back
