"""Tools run from another terminal or a subfolder find the `ugc dev` that runs:
its data directory, its signing key, its broker."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import jwt
import pytest

from tests.unit.test_cli_errors import ugc
from ugc.auth import dev_secret
from ugc.devstack.processes import free_port
from ugc.devstack.running import Running, announce, find_data_dir, running_in, withdraw

pytestmark = pytest.mark.unit


def test_the_data_directory_is_the_nearest_one_above(tmp_path: Path) -> None:
    (tmp_path / ".ugc").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)

    assert find_data_dir(deep) == tmp_path / ".ugc"
    assert find_data_dir(tmp_path.parent / "elsewhere") == tmp_path.parent / "elsewhere" / ".ugc"


def test_the_note_of_a_running_platform_is_read_only_while_it_runs(tmp_path: Path) -> None:
    here = Running(pid=os.getpid(), http="http://x", kafka="k:1", mongo="m", key="f" * 16)
    announce(tmp_path, here)
    assert running_in(tmp_path) == here

    gone = Running(pid=2**22 + 12345, http="http://x", kafka="k:1", mongo="m", key="f")
    announce(tmp_path, gone)  # a ugc dev that was killed left it behind
    assert running_in(tmp_path) is None

    announce(tmp_path, here)
    withdraw(tmp_path)
    assert running_in(tmp_path) is None


def test_a_token_made_in_a_subfolder_is_signed_with_the_platforms_secret(tmp_path: Path) -> None:
    secret = dev_secret(tmp_path / ".ugc")
    deep = tmp_path / "src" / "ugc"
    deep.mkdir(parents=True)
    user = str(uuid.uuid4())

    done = ugc("token", "--sub", user, cwd=deep)

    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == user
    assert str(tmp_path / ".ugc" / "jwt-secret") in done.stderr.replace("\n", "")
    assert not (deep / ".ugc").exists()  # no secret of its own made here


def test_a_token_the_running_platform_would_refuse_says_so(tmp_path: Path) -> None:
    dev_secret(tmp_path / ".ugc")
    other = Running(pid=os.getpid(), http="http://x", kafka="", mongo="", key="0" * 16)
    announce(tmp_path / ".ugc", other)

    done = ugc("token", "--sub", str(uuid.uuid4()), cwd=tmp_path)

    assert done.returncode == 0
    assert "another key" in done.stderr


def test_dead_letters_use_the_running_platforms_broker(tmp_path: Path) -> None:
    broker = f"127.0.0.1:{free_port()}"  # nothing listens: the note was followed
    note = Running(pid=os.getpid(), http="http://x", kafka=broker, mongo="", key="0")
    announce(tmp_path / ".ugc", note)

    done = ugc("dead-letters", "list", cwd=tmp_path)

    assert done.returncode == 69, done.stderr


def test_migrate_while_ugc_dev_holds_the_warehouse_says_what_to_do(tmp_path: Path) -> None:
    note = Running(pid=os.getpid(), http="http://x", kafka="", mongo="", key="0")
    announce(tmp_path / ".ugc", note)

    done = ugc("migrate", cwd=tmp_path)

    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert f"ugc dev (pid {os.getpid()})" in line
    assert "stop it first" in line
