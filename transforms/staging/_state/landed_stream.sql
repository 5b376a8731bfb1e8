-- A landed stream: raw.<name> is a view of raw_versions.<name>, where landing only appends (each
-- version with a larger landing_seq) and compaction only deletes. So the count and the last
-- landing_seq change whenever what the view shows may have changed, and cost one pass over a
-- BIGINT column instead of reading the records.
SELECT concat_ws(':', count(*), max(landing_seq))
FROM {versions_table}
