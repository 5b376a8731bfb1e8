-- What every reader of raw.<table> sees: one row per record, its latest version (the later
-- landing when versions tie), and no record whose latest entry is a removal.
CREATE OR REPLACE VIEW {raw_table} AS
WITH current_entry AS (
    SELECT arg_max(landing_seq, (record_version, landing_seq)) AS landing_seq
    FROM {versions_table}
    GROUP BY record_key
)
SELECT record_key, record_version, record, loaded_at, run_id
FROM {versions_table}
SEMI JOIN current_entry USING (landing_seq)
WHERE NOT removed
