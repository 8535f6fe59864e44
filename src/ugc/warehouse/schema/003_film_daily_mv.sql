CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.film_daily_mv TO {database}.film_daily AS
SELECT
    film_id,
    toDate(occurred_at) AS day,
    user_id,
    maxState(assumeNotNull(coalesce(position_sec, to_sec, 0.))) AS furthest,
    minState(assumeNotNull(coalesce(position_sec, from_sec, 0.))) AS earliest,
    maxState(assumeNotNull(coalesce(duration_sec, 0.))) AS duration,
    maxState(toUInt8(type = 'end')) AS completed
FROM {database}.events
WHERE type IN ('view_progress', 'play', 'pause', 'seek', 'stop', 'end', 'quality_change')
GROUP BY film_id, day, user_id
