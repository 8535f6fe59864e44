"""Start the local servers that the settings do not point elsewhere, and stop them."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from types import TracebackType

from ugc.devstack.ports import Wanted, check_free
from ugc.devstack.servers import LocalBroker, LocalDocumentStore, LocalObjectStore
from ugc.settings import Settings

log = logging.getLogger(__name__)


class LocalPlatform:
    """`with LocalPlatform(settings) as resolved:` gives settings with every URL filled.

    A part with a configured URL (UGC_KAFKA_BOOTSTRAP, UGC_MONGO_URL) is used as is;
    the others are started here, under the data directory, and stopped on exit. The
    broker keeps its log in a local object store under the data directory, unless
    `ephemeral` (then in memory: a restart forgets every event and offset).
    """

    def __init__(self, settings: Settings, *, ephemeral: bool = False) -> None:
        self.settings = settings
        self.ephemeral = ephemeral
        self.broker: LocalBroker | None = None
        self.document_store: LocalDocumentStore | None = None
        self._stack = ExitStack()

    def __enter__(self) -> Settings:
        settings = self.settings
        logs = settings.data_dir / "logs"
        updates: dict[str, object] = {}
        check_free(self.wanted_ports())
        try:
            if settings.kafka.bootstrap is None:
                objects = None
                if not self.ephemeral:
                    objects = LocalObjectStore(
                        settings.dev.object_store_port, settings.data_dir / "broker", logs
                    )
                    objects.start()
                    self._stack.callback(objects.stop)
                self.broker = LocalBroker(settings.dev.kafka_port, logs, objects)
                self.broker.start()
                self._stack.callback(self.broker.stop)
                # The local broker refuses idempotent producers.
                updates |= {"kafka_bootstrap": self.broker.bootstrap, "kafka_idempotence": False}
            if settings.mongo.url is None:
                self.document_store = LocalDocumentStore(
                    settings.dev.mongo_port, settings.data_dir / "mongo", logs
                )
                self.document_store.start()
                self._stack.callback(self.document_store.stop)
                updates["mongo_url"] = self.document_store.url
        except BaseException:
            self._stack.close()
            raise
        return settings.replace(**updates)

    def wanted_ports(self) -> list[Wanted]:
        """Every port this platform will listen on: its APIs' and its local servers'."""
        settings, dev = self.settings, self.settings.dev
        wanted = [Wanted(settings.http.port, "the APIs", "--port or UGC_PORT")]
        if settings.kafka.bootstrap is None:
            wanted.append(Wanted(dev.kafka_port, "the Kafka broker", "UGC_DEV_KAFKA_PORT"))
            if not self.ephemeral:
                wanted.append(
                    Wanted(dev.object_store_port, "the object store", "UGC_DEV_OBJECT_STORE_PORT")
                )
        if settings.mongo.url is None:
            wanted.append(Wanted(dev.mongo_port, "the document store", "UGC_DEV_MONGO_PORT"))
        return wanted

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()
