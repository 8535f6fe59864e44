"""The statements a cluster gets, parsed by ClickHouse itself (chdb), and the
sharding keys its Distributed tables get once a shard is added,
evaluated by ClickHouse itself (chdb): what was placed before the switch stays
where it is, a replay lands where its first copy did, new rows spread over every
shard. Distributed sends a row to shard `key % (sum of weights)`, 3 here."""

from __future__ import annotations

import pytest

from ugc.settings import Settings
from ugc.settings.sharding import parse
from ugc.warehouse.embedded import ChdbSink
from ugc.warehouse.migrations import statements
from ugc.warehouse.sharding import kept, placed
from ugc.warehouse.sink import SinkError

pytestmark = pytest.mark.integration

EPOCHS = parse("2; 3 from 2027-01-10T00:00:00Z")
KEY = "cityHash64(user_id)"
BEFORE, AFTER = "2027-01-09 23:59:59.999999", "2027-01-10 00:00:00.000000"


async def test_rows_stay_replays_meet_their_first_copy_and_new_rows_spread(
    warehouse: ChdbSink,
) -> None:
    users = [f"viewer-{n}" for n in range(300)]
    rows = ", ".join(f"('{u}', '{t}')" for u in users for t in (BEFORE, AFTER, BEFORE))
    found = await warehouse.query(
        f"SELECT user_id, toString(received_at) AS at, "
        f"({placed(KEY, 'received_at', EPOCHS)}) % 3 AS shard, "
        f"({kept(KEY, EPOCHS)}) % 3 AS state_shard, "
        f"{KEY} % 2 AS shard_of_two, {KEY} % 3 AS shard_of_three "
        f"FROM values('user_id String, received_at DateTime64(6, ''UTC'')', {rows})"
    )

    before = [r for r in found if r["at"].startswith("2027-01-09")]
    after = [r for r in found if r["at"].startswith("2027-01-10")]
    # Received before the switch (a first copy, or its replay later): where it always went.
    assert all(r["shard"] == r["shard_of_two"] for r in before)
    # Received after: by three, on every shard; about two thirds of the viewers moved.
    assert all(r["shard"] == r["shard_of_three"] for r in after)
    assert {r["shard"] for r in after} == {0, 1, 2}
    moved = sum(r["shard_of_two"] != r["shard_of_three"] for r in after)
    assert 0.5 < moved / len(after) < 0.8
    # One row of state per viewer never leaves the first two shards.
    assert all(r["state_shard"] == r["shard_of_two"] for r in found)


async def test_every_statement_a_cluster_gets_parses_as_clickhouse_reads_it(
    warehouse: ChdbSink,
) -> None:
    """chdb runs no cluster, but its parser is the server's: every statement
    `ugc migrate` sends to one, before and after a shard was added, parses."""
    base = Settings(_env_file=None, clickhouse_cluster="main")  # type: ignore[call-arg]
    added = base.replace(clickhouse_sharding="2; 3 from 2027-01-10T00:00:00Z")
    for settings in (base, added):
        for version, sql in statements(settings.clickhouse):
            found = await warehouse.query("SELECT formatQuery({sql:String}) AS q", {"sql": sql})
            assert found[0]["q"], version
    with pytest.raises(SinkError):
        await warehouse.query("SELECT formatQuery({sql:String}) AS q", {"sql": "CREATE TABEL x"})
