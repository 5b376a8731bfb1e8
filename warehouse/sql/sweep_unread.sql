-- End of a full refresh that read its stream to the end: stored records it did not read are no
-- longer in the source, so each gets a removal at its own version. A scheduled refresh
-- ($missed_twice) removes only those the scheduled refresh before it missed too (kept in
-- meta.refresh_misses). Returns the records removed.
INSERT INTO {versions_table}
SELECT record_key, record_version, NULL, now(), NULL,
       nextval('meta.landing_sequence'), true
FROM {raw_table}
WHERE record_key NOT IN (SELECT record_key FROM {seen_table})
    AND (NOT $missed_twice OR record_key IN (
        SELECT record_key FROM meta.refresh_misses WHERE source = $source AND stream = $stream
    ))
