-- A page that holds a whole window (e.g. restated cost days): stored records of that window that
-- the page no longer has are gone at the source. The page's own records are merged afterwards.
DELETE FROM {raw_table}
WHERE record_version >= $window_start
  AND record_version < $window_end
  AND record_key NOT IN (SELECT record_key FROM landing_batch)
