-- An event's index in its request (contract field `seq`): events that share a time
-- keep the order they were sent in wherever "the last" one is picked.
ALTER TABLE {database}.events ADD COLUMN IF NOT EXISTS seq UInt32 DEFAULT 0 AFTER occurred_at
