-- Remove the records a deletion log reports from one stream's raw table. A record stored with a
-- version later than its deletion was restored or recreated since, and stays.
DELETE FROM {raw_table}
WHERE EXISTS (
    SELECT 1
    FROM reported_deletions AS deletion
    WHERE deletion.stream = $stream
      AND deletion.record_key = {raw_table}.record_key
      AND deletion.deleted_at >= {raw_table}.record_version
)
