-- Per film, day and viewer: how far they got, from where, the film's length and
-- whether they finished. max/min are the same however often an event is
-- replayed, so duplicates that are not yet collapsed cannot skew them.
-- shard by: cityHash64(user_id)
CREATE TABLE IF NOT EXISTS {database}.film_daily
(
    film_id   UUID,
    day       Date,
    user_id   String,
    furthest  AggregateFunction(max, Float64),
    earliest  AggregateFunction(min, Float64),
    duration  AggregateFunction(max, Float64),
    completed AggregateFunction(max, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (film_id, day, user_id)
TTL day + INTERVAL {ttl_days} DAY
