-- A page that holds a whole window (e.g. restated cost days): stored records of that window that
-- the page no longer has are gone at the source, so each gets a removal at its own version. The
-- page's own records are appended afterwards. Returns the records removed.
INSERT INTO {versions_table}
SELECT record_key, record_version, NULL, now(), $run_id,
       nextval('meta.landing_sequence'), true
FROM {raw_table}
WHERE record_version >= $window_start
  AND record_version < $window_end
  AND record_key NOT IN (SELECT record_key FROM landing_batch)
