"""Erased users: who may never send events again, and whose records never load.

An erasure (`ugc.privacy`) writes one record to the suppressions topic, keyed by
the user id, before it removes anything; the topic is kept forever (it holds ids
only, never content). The events intake refuses the erased user's tokens, and
the loader drops their records, replays and dead letters included; both follow
the topic from its start and answer from memory (`Suppressions`).

User ids are the auth service's and are never given to another person, so a
suppression has no end: every token of an erased id is refused, whenever issued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from ugc.auth import AccountErased
from ugc.events.topics import ensure_topics
from ugc.settings import KafkaSettings

log = logging.getLogger(__name__)

# Ids only, a record each: no deletion policy may ever drop one.
TOPIC_CONFIGS = {"retention.ms": "-1", "retention.bytes": "-1"}


@dataclass(frozen=True, slots=True)
class Suppression:
    user_id: str
    erasure_id: str
    erased_at: datetime

    def value(self) -> bytes:
        return orjson.dumps(
            {"user_id": self.user_id, "erasure_id": self.erasure_id, "erased_at": self.erased_at}
        )

    @classmethod
    def parse(cls, value: bytes) -> Suppression:
        fields = orjson.loads(value)
        return cls(
            fields["user_id"], fields["erasure_id"], datetime.fromisoformat(fields["erased_at"])
        )


async def ensure_suppressions_topic(settings: KafkaSettings, *, client_id: str) -> None:
    await ensure_topics(
        settings,
        [settings.suppressions_topic],
        client_id=client_id,
        partitions=1,
        configs=TOPIC_CONFIGS,
    )


async def suppress(settings: KafkaSettings, suppression: Suppression, *, client_id: str) -> None:
    """Write the suppression, acknowledged by every in-sync replica, or raise."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.idempotence,
        request_timeout_ms=int(settings.send_timeout_s * 1000),
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.suppressions_topic,
            key=suppression.user_id.encode(),
            value=suppression.value(),
        )
    finally:
        await producer.stop()


class Suppressions:
    """The suppressions topic, followed from its start while the block runs:
    `async with Suppressions(settings, client_id=...) as erased:`.

    `erased(user_id)` answers from memory. `caught_up()` waits until everything
    written to the topic before the call has been read.
    """

    def __init__(self, settings: KafkaSettings, *, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._by_user: dict[str, Suppression] = {}
        self._keys: set[bytes] = set()  # the same users as Kafka record keys
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._read = asyncio.Event()

    def erased(self, user_id: str) -> bool:
        return user_id in self._by_user

    def erased_key(self, key: bytes | None) -> bool:
        """Whether a Kafka record key (the events' key is their user id) is erased."""
        return key in self._keys if key is not None else False

    def __len__(self) -> int:
        return len(self._by_user)

    def all(self) -> list[Suppression]:
        return list(self._by_user.values())

    def check(self, user_id: str) -> None:
        """`AccountErased` for an erased user."""
        if user_id in self._by_user:
            raise AccountErased

    async def __aenter__(self) -> Suppressions:
        settings = self._settings
        await ensure_suppressions_topic(settings, client_id=f"{self._client_id}-admin")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        partition = TopicPartition(settings.suppressions_topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        await self.caught_up(_first=True)
        self._task = asyncio.create_task(self._follow(), name="suppressions")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def caught_up(self, *, timeout_s: float = 30.0, _first: bool = False) -> None:
        """Return once every suppression written before the call has been read."""
        consumer = self._consumer
        assert consumer is not None, "use Suppressions in `async with`"
        partition = TopicPartition(self._settings.suppressions_topic, 0)
        end = (await consumer.end_offsets([partition]))[partition]
        async with asyncio.timeout(timeout_s):
            while await consumer.position(partition) < end:
                if _first:
                    await self._read_some(consumer)
                else:
                    self._read.clear()
                    await self._read.wait()

    async def _follow(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                await self._read_some(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:  # the list must keep following whatever happens
                log.warning("suppressions not read; trying again", exc_info=True)
                await asyncio.sleep(1.0)

    async def _read_some(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                try:
                    found = Suppression.parse(record.value or b"")
                except (ValueError, KeyError, TypeError):
                    log.exception("a suppression record at offset %d is unreadable", record.offset)
                    continue
                if found.user_id not in self._by_user:
                    log.info("user suppressed by erasure %s", found.erasure_id)
                self._by_user.setdefault(found.user_id, found)
                self._keys.add(found.user_id.encode())
        self._read.set()
