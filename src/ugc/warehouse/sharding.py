"""Where a row goes on a cluster, and how a shard is added without moving a row.

The Distributed tables place a user's rows by `cityHash64(user_id)` over the
shards. Added naively, a third shard changes `hash % 2` into `hash % 3` for
every row written after, so about two thirds of the users get their new rows on
another shard than their old ones; a replayed event (the loader reads again
what it had not committed) then lands beside no first copy, and `FINAL`, which
collapses duplicates within a shard only, counts it twice.

So the shard count has a history, `UGC_CLICKHOUSE_SHARDING`: "2", then
"2; 3 from 2027-01-10T00:00:00Z". An event is placed by the count of the epoch
its `received_at` falls in: the server stamps that time once, in the Kafka
record, so every replay of an event carries the same one and lands on the shard
its first copy did, whenever it is replayed. Events received before the switch
stay where they are and keep being found there; nothing is moved, and the
tables the materialized views fill follow the events they are made from. Tables
written through their Distributed table that hold one row of state per viewer
(hidden Continue Watching rows, erasure receipts) keep the first epoch's count
for good: they are small, and a viewer's versions must meet on one shard.

The shards of a later epoch are listed after the earlier ones in the cluster's
definition, with weight 1, so `hash % 2` still names the first two of three.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from ugc.settings.sharding import Epoch


def _time(moment: datetime) -> str:
    return f"toDateTime64('{moment.strftime('%Y-%m-%d %H:%M:%S.%f')}', 6, 'UTC')"


def placed(key: str, time_column: str, epochs: tuple[Epoch, ...]) -> str:
    """The sharding expression of a table whose rows are placed by `time_column`:
    the count of the epoch the row's time falls in."""
    if len(epochs) == 1:
        return f"({key}) % {epochs[0].shards}"
    branches = []
    for epoch, following in itertools.pairwise(epochs):
        assert following.since is not None
        branches.append(f"{time_column} < {_time(following.since)}, ({key}) % {epoch.shards}")
    return f"multiIf({', '.join(branches)}, ({key}) % {epochs[-1].shards})"


def kept(key: str, epochs: tuple[Epoch, ...]) -> str:
    """The sharding expression of a table whose rows never move: the first count."""
    return f"({key}) % {epochs[0].shards}"
