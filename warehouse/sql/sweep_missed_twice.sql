-- End of a scheduled whole read: a stored record it did not read is removed (at its own
-- version) only when the previous scheduled whole read missed it too; the others are noted in
-- meta.refresh_misses for the next one. Returns the records removed.
INSERT INTO {versions_table}
SELECT record_key, record_version, NULL, now(), NULL,
       nextval('meta.landing_sequence'), true
FROM {raw_table}
WHERE record_key NOT IN (SELECT record_key FROM {seen_table})
    AND record_key IN (
        SELECT record_key FROM meta.refresh_misses WHERE source = $source AND stream = $stream
    )
