"""A server `ugc dev` started never outlives it: killed outright, the parent
cannot stop its children, and the kernel kills them for it, even one that
ignores SIGTERM (a hung server once held its port and data past a test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ugc.devstack.processes import wait_until

pytestmark = pytest.mark.integration

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('deaf to SIGTERM', flush=True); time.sleep(600)"
)
PARENT = """
import sys, time
from pathlib import Path
from ugc.devstack.processes import ManagedProcess
child = ManagedProcess("stubborn", [sys.executable, "-c", sys.argv[1]], Path(sys.argv[2]))
child.start()
print(child.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose here (no port, no files): its state says so.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_child_that_ignores_sigterm_dies_with_its_killed_parent(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, STUBBORN, str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        wait_until(lambda: log.exists() and "deaf" in log.read_text(), timeout=10, what="the child")
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(lambda: not alive(child), timeout=10, what="the child's end")
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
