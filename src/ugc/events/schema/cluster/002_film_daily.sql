-- Per film, day and viewer: how far they got, from where, the film's length and
-- whether they finished. max/min are the same however often an event is
-- replayed, so duplicates that are not yet collapsed cannot skew them.
CREATE TABLE IF NOT EXISTS {database}.film_daily_local ON CLUSTER {cluster}
(
    film_id   UUID,
    day       Date,
    user_id   String,
    furthest  AggregateFunction(max, Float64),
    earliest  AggregateFunction(min, Float64),
    duration  AggregateFunction(max, Float64),
    completed AggregateFunction(max, UInt8)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/film_daily_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (film_id, day, user_id)
TTL day + INTERVAL {ttl_days} DAY
;
CREATE TABLE IF NOT EXISTS {database}.film_daily ON CLUSTER {cluster} AS {database}.film_daily_local
ENGINE = Distributed({cluster}, {database}, film_daily_local, cityHash64(user_id))
