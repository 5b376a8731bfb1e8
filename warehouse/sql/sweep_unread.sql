-- End of a full refresh that read its stream to the end: stored records it did not read are no
-- longer in the source.
DELETE FROM {raw_table}
WHERE record_key NOT IN (SELECT record_key FROM {seen_table})
