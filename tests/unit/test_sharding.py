"""A cluster's shard count with a history: read from the setting, written into
each Distributed table's key so that no row moves and replays meet their first
copy."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.unit.fakes.warehouse import MigrationSink
from ugc.settings import Settings
from ugc.settings.sharding import Epoch, ShardingSpecError, parse
from ugc.warehouse.migrations import ShardsDisagree, migrate, statements
from ugc.warehouse.sharding import kept, placed

pytestmark = pytest.mark.unit

SWITCH = datetime(2027, 1, 10, tzinfo=UTC)


def test_the_history_reads_as_epochs() -> None:
    assert parse("2") == (Epoch(2, None),)
    assert parse(" 2 ; 3 from 2027-01-10T00:00:00Z;4 from 2027-06-01T12:00:00+02:00") == (
        Epoch(2, None),
        Epoch(3, SWITCH),
        Epoch(4, datetime(2027, 6, 1, 10, tzinfo=UTC)),
    )


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("two", "is not '<shards>'"),
        ("2; 3", "every later one has one"),
        ("2 from 2027-01-10T00:00:00Z", "the first epoch has no start"),
        ("2; 3 from 2027-01-10", "needs a zone"),
        ("2; 3 from someday", "not an ISO 8601 time"),
        ("3; 2 from 2027-01-10T00:00:00Z", "more shards than the one before"),
        ("2; 3 from 2027-01-10T00:00:00Z; 4 from 2027-01-01T00:00:00Z", "starts after"),
        ("0", "at least one shard"),
    ],
)
def test_a_wrong_history_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(ShardingSpecError, match=says):
        parse(spec)


def test_rows_are_placed_by_the_epoch_of_their_time_or_kept_where_they_began() -> None:
    epochs = parse("2; 3 from 2027-01-10T00:00:00Z")
    assert placed("cityHash64(user_id)", "received_at", epochs) == (
        "multiIf(received_at < toDateTime64('2027-01-10 00:00:00.000000', 6, 'UTC'), "
        "(cityHash64(user_id)) % 2, (cityHash64(user_id)) % 3)"
    )
    assert kept("cityHash64(user_id)", epochs) == "(cityHash64(user_id)) % 2"


def distributed_keys(settings: Settings) -> dict[str, str]:
    keys = {}
    for _, sql in statements(settings.clickhouse):
        found = re.search(
            r"TABLE (\S+)\.(\w+) ON CLUSTER .*\sENGINE = Distributed\(\w+, \w+, \w+, (.+)\)$",
            sql,
            re.S,
        )
        if found:
            keys[found.group(2)] = found.group(3)
    return keys


def test_once_a_shard_is_added_events_follow_their_epoch_and_state_stays_put() -> None:
    before = Settings(_env_file=None, clickhouse_cluster="main")  # type: ignore[call-arg]
    after = before.replace(clickhouse_sharding="2; 3 from 2027-01-10T00:00:00Z")

    assert distributed_keys(before)["events"] == "cityHash64(user_id)"
    keys = distributed_keys(after)
    assert keys["events"].startswith("multiIf(received_at < toDateTime64('2027-01-10")
    for table in ("continue_watching_hidden", "erased_viewers", "film_daily", "film_viewer_hours"):
        assert keys[table] == "(cityHash64(user_id)) % 2", table
    assert keys["film_day_viewers"] == "rand()"
    # The Distributed tables are made again each run: their key follows the setting.
    assert all(
        "CREATE OR REPLACE TABLE" in sql for _, sql in statements(after.clickhouse)
        if "ENGINE = Distributed" in sql
    )  # fmt: skip


async def test_migrate_refuses_a_history_the_cluster_does_not_have_yet() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        clickhouse_cluster="main",
        clickhouse_sharding="2; 3 from 2027-01-10T00:00:00Z",
    ).clickhouse
    with pytest.raises(
        ShardsDisagree, match="has 2 shards, but UGC_CLICKHOUSE_SHARDING ends with 3"
    ):
        await migrate(MigrationSink(shards=2), settings)
    three = MigrationSink(shards=3)
    await migrate(three, settings)
    assert any("multiIf(received_at" in sql for sql in three.executed)


def test_an_empty_setting_is_no_history() -> None:
    settings = Settings(_env_file=None, clickhouse_sharding=" ")  # type: ignore[call-arg]
    assert settings.clickhouse.shard_epochs is None
