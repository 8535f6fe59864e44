-- Distinct viewers per day and film, for ranking films over a period without
-- reading every viewer's row. uniq is approximate (within about 1%), and a
-- replayed event does not change it.
CREATE TABLE IF NOT EXISTS {database}.film_day_viewers
(
    day     Date,
    film_id UUID,
    viewers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (film_id, day)
TTL day + INTERVAL {ttl_days} DAY
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.film_day_viewers_mv TO {database}.film_day_viewers AS
SELECT toDate(occurred_at) AS day, film_id, uniqState(user_id) AS viewers
FROM {database}.events
WHERE type IN ('view_progress', 'play', 'pause', 'seek', 'stop', 'end', 'quality_change')
GROUP BY day, film_id
