"""A batch of Kafka records ready to insert, and the tokens that name its offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

# aiokafka's ConsumerRecord and TopicPartition (which ships no type information):
# a record has topic, partition, offset, key, value and headers; a partition is
# a (topic, partition) named tuple.
Record: TypeAlias = Any
Partition: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class Batch:
    """Records by partition, each in offset order; the same records in one list;
    their rows joined as the insert takes them; the token naming their offsets."""

    parts: Mapping[Partition, Sequence[Record]]
    events: int
    records: list[Record]
    rows: bytes
    token: str

    @classmethod
    def of(
        cls,
        parts: Mapping[Partition, Sequence[Record]],
        events: int,
        drop: Callable[[Record], bool] | None = None,
    ) -> Batch:
        """The batch of these records, but those `drop` says never to load (erased
        users'): their offsets are committed with the rest, their rows go nowhere."""
        records = [r for tp in sorted(parts) for r in parts[tp]]
        if drop is not None:
            records = [r for r in records if not drop(r)]
        return cls(parts, events, records, join_values(records), batch_token(parts))

    def next_offsets(self) -> dict[Partition, int]:
        """What to commit once the batch is in: the offset after each partition's last."""
        return {tp: records[-1].offset + 1 for tp, records in self.parts.items()}


def join_values(records: Sequence[Record]) -> bytes:
    """Record values are JSON lines; joined, they are the rows of an insert."""
    return b"\n".join([r.value or b"" for r in records])


def batch_token(parts: Mapping[Partition, Sequence[Record]]) -> str:
    """The topic, per partition the offset range, and what tells this incarnation of
    the topic from another: `topic:p0=10-99,p1=5-60~3f2a...`.

    A partition's records come in offset order, so its first and last name the
    range. ClickHouse deduplicates an insert whose token it has seen, so a batch
    read again after a crash or a rebalance inserts nothing twice. Offsets alone
    are not enough: a topic deleted and made again, or a broker that forgot its
    log, hands out the same offsets to other records, and their batches were
    dropped as duplicates of the last run's. The digest of the first and last
    record of each range (time, key, size) differs between incarnations, and is
    the same for a replay of the same records.
    """
    topic = next(iter(parts))[0]
    ranges = []
    digest = hashlib.blake2b(digest_size=8)
    for tp, records in sorted(parts.items()):
        if not records:
            continue
        ranges.append(f"p{tp[1]}={records[0].offset}-{records[-1].offset}")
        for record in (records[0], records[-1]):
            digest.update(_identity(record))
    return f"{topic}:{','.join(ranges)}~{digest.hexdigest()}"


def _identity(record: Record) -> bytes:
    return b"%d:%d:%b;" % (record.timestamp or 0, len(record.value or b""), record.key or b"")


def slice_token(records: Sequence[Record]) -> str:
    """The token of a part of a batch (records grouped by partition, in offset order)."""
    by_partition: dict[tuple[str, int], list[Record]] = {}
    for record in records:
        by_partition.setdefault((record.topic, record.partition), []).append(record)
    return batch_token(by_partition)


def request_ids(records: Sequence[Record]) -> set[str]:
    return {
        value.decode(errors="replace")
        for record in records
        for key, value in record.headers
        if key == "x-request-id"
    }
