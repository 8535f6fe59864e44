"""Creating the platform's Kafka topics when they are missing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ugc.settings import KafkaSettings

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: KafkaSettings,
    names: Iterable[str],
    *,
    client_id: str,
    partitions: int | None = None,
    configs: dict[str, str] | None = None,
) -> None:
    """Create each topic that does not exist yet, with the configured partitions and
    replication (brokers may not create topics by themselves, and should not), or
    the `partitions` and topic `configs` given."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for name in dict.fromkeys(names):
            if name in existing:
                continue
            topic = NewTopic(
                name,
                num_partitions=partitions or settings.partitions,
                replication_factor=settings.replication,
                topic_configs=configs or {},
            )
            try:
                await admin.create_topics([topic])
                log.info("created topic %s with %d partitions", name, topic.num_partitions)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def ensure_topic(settings: KafkaSettings, *, client_id: str = "ugc-admin") -> None:
    """The events topic."""
    await ensure_topics(settings, [settings.topic], client_id=client_id)
