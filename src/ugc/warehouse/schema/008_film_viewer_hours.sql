-- Which viewer watched which film in which hour, over the last week: trending
-- weighs each viewer by how long ago they last watched. Only events of the last
-- 8 days (by their time) enter, so an insert touches a few partitions at most
-- whatever the clocks say, and whole days drop out as partitions.
-- shard by: cityHash64(user_id)
CREATE TABLE IF NOT EXISTS {database}.film_viewer_hours
(
    hour    DateTime('UTC'),
    film_id UUID,
    user_id String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(hour)
ORDER BY (hour, film_id, user_id)
TTL hour + INTERVAL 8 DAY
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.film_viewer_hours_mv TO {database}.film_viewer_hours AS
SELECT DISTINCT toStartOfHour(occurred_at) AS hour, film_id, user_id
FROM {database}.events
WHERE type IN ('view_progress', 'play', 'pause', 'seek', 'stop', 'end', 'quality_change')
  AND occurred_at > now64(6) - INTERVAL 8 DAY AND occurred_at < now64(6) + INTERVAL 1 HOUR
