"""`ugc` fails in a line that says what to do, with an exit code a script can
tell apart (2: the command line, 69: a server did not answer), and shows the
traceback only with --debug. Each case runs the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ugc import __version__
from ugc.devstack.processes import free_port

pytestmark = pytest.mark.unit


def ugc(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("UGC_")}
    return subprocess.run(
        [sys.executable, "-m", "ugc", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version(tmp_path: Path) -> None:
    done = ugc("--version", cwd=tmp_path)

    assert (done.returncode, done.stdout.strip()) == (0, f"ugc {__version__}")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("serve-content", "--port", "-1"), "--port"),
        (("serve-events", "--port", "70000"), "--port"),
        (("token", "--sub", "x", "--ttl", "-5"), "--ttl"),
        (("research", "events", "--rows", "-1"), "--rows"),
        (("research", "content", "--docs", "0"), "--docs"),
    ],
)
def test_a_value_out_of_range_is_a_usage_error_in_one_line(
    tmp_path: Path, args: tuple[str, ...], option: str
) -> None:
    done = ugc(*args, cwd=tmp_path)

    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"ugc: Invalid value for '{option}'")
    assert "--help" in line


def test_a_role_ugc_does_not_know_is_refused_with_the_ones_it_does(tmp_path: Path) -> None:
    sub = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    done = ugc("token", "--sub", sub, "--role", "moderater", cwd=tmp_path)
    signed = ugc("token", "--sub", sub, "--role", "moderator", cwd=tmp_path)

    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "moderater" in line
    assert "analyst, moderator, privacy" in line
    assert signed.returncode == 0
    assert signed.stdout.count(".") == 2  # a JWT


def test_a_missing_setting_says_which_variable_to_set(tmp_path: Path) -> None:
    done = ugc("dead-letters", "list", cwd=tmp_path)

    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "UGC_KAFKA_BOOTSTRAP" in line


def test_production_names_the_server_a_command_uses_and_lacks(tmp_path: Path) -> None:
    production = {"UGC_ENVIRONMENT": "production", "UGC_JWT_SECRET": "s" * 40}
    done = ugc("serve-analytics", cwd=tmp_path, **production)

    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "production needs real servers: set UGC_CLICKHOUSE_URL" in line
    # No local store falls in for it: nothing was made in the data directory.
    assert not (tmp_path / ".ugc" / "clickhouse").exists()


def test_a_server_that_does_not_answer_is_exit_69_and_one_line(tmp_path: Path) -> None:
    nobody = f"127.0.0.1:{free_port()}"
    done = ugc("dead-letters", "list", cwd=tmp_path, UGC_KAFKA_BOOTSTRAP=nobody)
    debugged = ugc("dead-letters", "list", "--debug", cwd=tmp_path, UGC_KAFKA_BOOTSTRAP=nobody)

    assert done.returncode == 69
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("ugc: ")
    assert "did not answer" in line
    assert "Traceback" not in done.stderr
    assert debugged.returncode != 0
    assert "Traceback" in debugged.stderr


def test_an_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    done = ugc("nosuch", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.strip() == "ugc: No such command 'nosuch'; see `ugc --help`"


def test_a_commands_own_exit_code_is_kept(tmp_path: Path) -> None:
    done = ugc("healthcheck", "--url", f"http://127.0.0.1:{free_port()}/healthz", cwd=tmp_path)

    assert done.returncode == 1
    assert "unhealthy" in done.stdout + done.stderr
