"""What the loader needs of Kafka: a consumer of the events topic and a producer
of dead letters. `loader.kafka` implements them with aiokafka; unit tests with
fakes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from ugc.loader.batch import Partition, Record


class EventSource(Protocol):
    async def getmany(
        self, *, timeout_ms: int, max_records: int
    ) -> Mapping[Partition, Sequence[Record]]:
        """Records that arrived, by partition, in offset order; waits up to timeout_ms."""

    async def commit(self, offsets: Mapping[Partition, int]) -> None:
        """Commit the next offset to read of each partition; raises `CommitFailed`."""

    def highwater(self, partition: Partition) -> int | None:
        """The offset after the partition's last record, when known."""

    async def committed(self, partition: Partition) -> int | None:
        """The group's committed offset of the partition, if any."""


class DeadLetterSink(Protocol):
    async def send(
        self, value: bytes, *, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        """Write one dead letter durably, or raise `DeadLetterUnavailable`."""


class CommitFailed(Exception):
    """The offsets were not committed (mostly: a rebalance took the partitions)."""


class DeadLetterUnavailable(Exception):
    """The dead-letter topic did not take the row in time; it is tried again."""
