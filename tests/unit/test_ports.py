"""`ugc dev` checks every port it needs before it starts anything, and names each
taken one with what moves it and what holds it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.unit.test_cli_errors import ugc
from ugc.devstack.platform import LocalPlatform
from ugc.devstack.ports import PortsTaken
from ugc.devstack.processes import free_port
from ugc.settings import Settings

pytestmark = pytest.mark.unit


@contextmanager
def listening() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_every_taken_port_is_named_before_anything_starts(base_settings: Settings) -> None:
    with listening() as api, listening() as broker:
        settings = base_settings.replace(
            port=api, dev_kafka_port=broker, dev_mongo_port=free_port()
        )
        platform = LocalPlatform(settings, ephemeral=True)
        with pytest.raises(PortsTaken) as caught:
            platform.__enter__()

    message = str(caught.value)
    assert f"port {api} for the APIs is taken" in message
    assert "--port or UGC_PORT" in message
    assert f"port {broker} for the Kafka broker is taken" in message
    assert "UGC_DEV_KAFKA_PORT" in message
    assert f"(pid {os.getpid()})" in message  # who holds them: this test
    assert platform.broker is None  # nothing was started
    assert platform.document_store is None


def test_ugc_dev_on_a_taken_port_fails_in_one_line(tmp_path: Path) -> None:
    with listening() as api:
        done = ugc(
            "dev", "--ephemeral", "--port", str(api), cwd=tmp_path,
            UGC_DATA_DIR=str(tmp_path / "data"), UGC_DEV_KAFKA_PORT=str(free_port()),
            UGC_DEV_MONGO_PORT=str(free_port()),
        )  # fmt: skip

    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("ugc: ")]
    assert len(lines) == 1, done.stderr
    assert f"port {api} for the APIs is taken" in lines[0]
    assert "Traceback" not in done.stderr


def test_ugc_dev_with_its_broker_port_taken_names_the_variable(tmp_path: Path) -> None:
    with listening() as broker:
        done = ugc(
            "dev", "--ephemeral", "--port", str(free_port()), cwd=tmp_path,
            UGC_DATA_DIR=str(tmp_path / "data"), UGC_DEV_KAFKA_PORT=str(broker),
            UGC_DEV_MONGO_PORT=str(free_port()),
        )  # fmt: skip

    assert done.returncode == 1
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("ugc: ")]
    assert f"port {broker} for the Kafka broker is taken" in line
    assert "UGC_DEV_KAFKA_PORT" in line
