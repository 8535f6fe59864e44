-- Erasure: an erased viewer's rows are removed by lightweight DELETEs
-- (hidden from every read at once) and rewritten out of the parts on disk within
-- UGC_ERASURE_PHYSICAL_S; the by_user projection is rebuilt for the parts touched.
ALTER TABLE {database}.events MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild'
;
-- What the warehouse removed for each erased viewer, written by the loader that
-- removed it: the receipt (rows per table, counted before anything was removed),
-- the films and days whose distinct-viewer states it rebuilds (`touched`), when
-- the rows were masked and when they were gone from disk. A new version of
-- the row records each step; read with FINAL. Ids only, never content.
-- shard by: cityHash64(user_id)
CREATE TABLE IF NOT EXISTS {database}.erased_viewers
(
    user_id     String,
    erasure_id  String,
    receipt     String,
    touched     String DEFAULT '',
    masked_at   Nullable(DateTime64(6, 'UTC')),
    physical_at Nullable(DateTime64(6, 'UTC')),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY user_id
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
