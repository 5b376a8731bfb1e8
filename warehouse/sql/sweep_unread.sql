-- End of a full refresh that read its stream to the end: stored records it did not read are no
-- longer in the source, so each gets a removal at its own version. Returns the records removed.
INSERT INTO {versions_table}
SELECT record_key, record_version, NULL, now(), NULL,
       nextval('meta.landing_sequence'), true
FROM {raw_table}
WHERE record_key NOT IN (SELECT record_key FROM {seen_table})
