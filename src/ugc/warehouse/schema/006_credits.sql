-- Where a film's end credits start (contract field `credits_sec`): reaching it
-- completes a viewing, instead of a share of the length.
ALTER TABLE {database}.events ADD COLUMN IF NOT EXISTS credits_sec Nullable(Float64) AFTER duration_sec
