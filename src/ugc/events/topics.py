"""Creating the platform's Kafka topics when they are missing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion, KafkaError, TopicAlreadyExistsError

from ugc.settings import KafkaSettings

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: KafkaSettings,
    names: Iterable[str],
    *,
    client_id: str,
    partitions: int | None = None,
    configs: dict[str, str] | None = None,
    keep_configs: bool = False,
) -> None:
    """Create each topic that does not exist yet, with the configured partitions and
    replication (brokers may not create topics by themselves, and should not), or
    the `partitions` and topic `configs` given. With `keep_configs`, a topic that
    exists gets the `configs` too where it differs (an older release made it)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for name in dict.fromkeys(names):
            if name in existing:
                if keep_configs and configs:
                    await _keep_configs(admin, name, configs)
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


# Where a topic's config value came from (DescribeConfigs): set on the topic itself.
_SET_ON_TOPIC = 1


async def _keep_configs(admin: AIOKafkaAdminClient, topic: str, wanted: dict[str, str]) -> None:
    """Set `wanted` on an existing topic where it differs, keeping the rest of what
    was set on the topic (AlterConfigs replaces the whole set); where the broker
    cannot alter configs, say in the log what to run."""
    resource = ConfigResource(ConfigResourceType.TOPIC, topic)
    (described,) = await admin.describe_configs([resource])
    entries = described.resources[0][4]  # (name, value, read_only, source, sensitive, ...)
    current = {entry[0]: entry[1] for entry in entries}
    if all(current.get(key) == value for key, value in wanted.items()):
        return
    kept = {entry[0]: entry[1] for entry in entries if entry[3] == _SET_ON_TOPIC}
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs=kept | wanted)]
        )
        log.info("set %s on topic %s", wanted, topic)
    except (IncompatibleBrokerVersion, KafkaError) as exc:
        settings = ",".join(f"{key}={value}" for key, value in wanted.items())
        log.warning(
            "topic %s has %s where %s is wanted, and the broker did not change it (%s): "
            "run kafka-configs.sh --bootstrap-server ... --alter --entity-type topics "
            "--entity-name %s --add-config %s",
            topic, {key: current.get(key) for key in wanted}, wanted, exc, topic, settings,
        )  # fmt: skip


async def ensure_topic(settings: KafkaSettings, *, client_id: str = "ugc-admin") -> None:
    """The events topic."""
    await ensure_topics(settings, [settings.topic], client_id=client_id)
