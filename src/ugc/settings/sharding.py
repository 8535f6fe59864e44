"""The history of a ClickHouse cluster's shard count, `UGC_CLICKHOUSE_SHARDING`:
"2", then "2; 3 from 2027-01-10T00:00:00Z". What it means for where rows go is
in `ugc.warehouse.sharding`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_EPOCH = re.compile(r"^\s*(\d+)\s*(?:from\s+(\S+))?\s*$")


class ShardingSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Epoch:
    shards: int
    since: datetime | None  # None: from the start


def parse(spec: str) -> tuple[Epoch, ...]:
    """`"2; 3 from 2027-01-10T00:00:00Z"` as epochs; a `ShardingSpecError` saying
    what is wrong otherwise."""
    epochs: list[Epoch] = []
    for number, part in enumerate(spec.split(";")):
        found = _EPOCH.match(part)
        if found is None:
            raise ShardingSpecError(
                f"{part.strip()!r} is not '<shards>' or '<shards> from <UTC time>' "
                "(e.g. '2; 3 from 2027-01-10T00:00:00Z')"
            )
        shards, since_text = int(found.group(1)), found.group(2)
        if (number == 0) != (since_text is None):
            raise ShardingSpecError(
                "the first epoch has no start and every later one has one "
                "(e.g. '2; 3 from 2027-01-10T00:00:00Z')"
            )
        since = None
        if since_text is not None:
            try:
                since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ShardingSpecError(f"{since_text!r} is not an ISO 8601 time") from exc
            if since.utcoffset() is None:
                raise ShardingSpecError(f"{since_text!r} needs a zone: end it with Z")
            since = since.astimezone(UTC)
        if shards < 1:
            raise ShardingSpecError("an epoch has at least one shard")
        if epochs:
            last = epochs[-1]
            if shards <= last.shards:
                raise ShardingSpecError("each epoch has more shards than the one before")
            if last.since is not None and since is not None and since <= last.since:
                raise ShardingSpecError("each epoch starts after the one before")
        epochs.append(Epoch(shards, since))
    return tuple(epochs)
