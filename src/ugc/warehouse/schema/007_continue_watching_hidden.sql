-- Films viewers hid from their Continue Watching row, and when: written by the
-- analytics API when a viewer hides one. A playback event later than the hide
-- brings the film back; the resume point is never touched. A hide is a viewer's
-- answer (a 2xx), so its parts are fsynced before the insert returns.
-- shard by: cityHash64(user_id)
CREATE TABLE IF NOT EXISTS {database}.continue_watching_hidden
(
    user_id   String,
    film_id   UUID,
    hidden_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(hidden_at)
ORDER BY (user_id, film_id)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
