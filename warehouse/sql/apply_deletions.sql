-- Remove the records a deletion log reports from one stream: a removal at the deletion's time.
-- A record stored with a version later than its deletion was restored or recreated since, and
-- stays, unless that version is over an hour after the record was landed (beyond any skew of
-- the two clocks): stamped in the future (an import run with autoSysFields(false)), it tells
-- nothing about a restore, and such a record is deleted like any other. Returns the records
-- removed.
WITH reported AS (
    SELECT record_key, max(deleted_at) AS deleted_at
    FROM reported_deletions
    WHERE stream = $stream
    GROUP BY record_key
)
INSERT INTO {versions_table}
SELECT stored.record_key, greatest(reported.deleted_at, stored.record_version), NULL, now(),
       $run_id, nextval('meta.landing_sequence'), true
FROM {raw_table} AS stored
JOIN reported USING (record_key)
WHERE reported.deleted_at >= stored.record_version
   OR try_cast(stored.record_version AS TIMESTAMPTZ) > stored.loaded_at + INTERVAL 1 HOUR
