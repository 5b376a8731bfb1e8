-- Forget the versions no reader can see any more (superseded or removed), keeping each record's
-- current one, so the versions table stays close to the records' count.
DELETE FROM {versions_table}
WHERE landing_seq NOT IN (
    SELECT arg_max(landing_seq, (record_version, landing_seq))
    FROM {versions_table}
    GROUP BY record_key
)
   OR removed
