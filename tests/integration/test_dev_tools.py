"""The tools find the `ugc dev` that runs: a token made in a subfolder, in another
process, is one the running platform accepts."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from ugc.devstack.processes import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.integration


def _ready(base: str, process: ManagedProcess) -> bool:
    process.check_alive()
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_token_made_in_a_subfolder_is_accepted_by_the_running_platform(
    tmp_path: Path,
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("UGC_")}
    ports = {f"UGC_DEV_{part}_PORT": str(free_port()) for part in ("KAFKA", "MONGO")}
    env = {**clean, **ports, "UGC_DEV_OBJECT_STORE_PORT": str(free_port())}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "ugc", "dev", "--ephemeral", "--port", str(port)]
    dev = ManagedProcess("ugc-dev", argv, tmp_path / "ugc-dev.log", env=env, cwd=tmp_path)
    dev.start()
    try:
        wait_until(lambda: _ready(base, dev), timeout=90, what="ugc dev")
        elsewhere = tmp_path / "notes" / "today"
        elsewhere.mkdir(parents=True)
        made = subprocess.run(
            [sys.executable, "-m", "ugc", "token", "--sub", str(uuid.uuid4())],
            cwd=elsewhere, env=clean, capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        event = {"type": "play", "film_id": str(uuid.uuid4()), "position_sec": 1.0}
        sent = httpx.post(
            f"{base}/api/v1/events",
            json=event,
            headers={"Authorization": f"Bearer {made.stdout.strip()}"},
            timeout=10,
        )
    finally:
        dev.stop(timeout=60)

    assert sent.status_code == 202, sent.text
    assert "another key" not in made.stderr
    assert not (elsewhere / ".ugc").exists()
