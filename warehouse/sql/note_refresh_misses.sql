-- The stored records a scheduled whole read did not read (after sweep_unread.sql removed
-- those missed twice): the next scheduled whole read removes them if it misses them as well.
INSERT INTO meta.refresh_misses
SELECT $source, $stream, record_key
FROM {raw_table}
WHERE record_key NOT IN (SELECT record_key FROM {seen_table})
