-- Raw player events, one row per event_id. Columns follow ugc.events.contract
-- RECORD_FIELDS; the loader inserts the Kafka message bytes as JSONEachRow.
-- ReplacingMergeTree collapses a replayed or retried event_id (same film and
-- user, so the same sorting key); read with FINAL where duplicates would count.
-- shard by: cityHash64(user_id)
-- placed by: received_at (once a shard was added: ugc.warehouse.sharding)
-- Partitions follow the server's receive time, so a client clock can never make
-- an insert touch hundreds of partitions.
CREATE TABLE IF NOT EXISTS {database}.events
(
    event_id       UUID,
    type           LowCardinality(String),
    user_id        String,
    film_id        UUID DEFAULT toUUID('00000000-0000-0000-0000-000000000000'),
    schema_version UInt8,
    timestamp      Nullable(DateTime64(6, 'UTC')),
    sent_at        Nullable(DateTime64(6, 'UTC')),
    received_at    DateTime64(6, 'UTC'),
    occurred_at    DateTime64(6, 'UTC'),
    position_sec   Nullable(Float64),
    duration_sec   Nullable(Float64),
    from_sec       Nullable(Float64),
    to_sec         Nullable(Float64),
    from_quality   LowCardinality(Nullable(String)),
    to_quality     LowCardinality(Nullable(String)),
    element        Nullable(String),
    page           Nullable(String),
    referrer       Nullable(String),
    query          Nullable(String),
    results        Nullable(UInt32),
    loaded_at      DateTime64(3, 'UTC') DEFAULT now64(3),
    PROJECTION by_user
    (
        SELECT *
        ORDER BY user_id, film_id, occurred_at
    )
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (film_id, user_id, event_id)
TTL toDateTime(received_at) + INTERVAL {ttl_days} DAY
SETTINGS non_replicated_deduplication_window = 10000, deduplicate_merge_projection_mode = 'rebuild'
