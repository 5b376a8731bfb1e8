-- Merge one page into a raw table by primary key: a record's latest version wins, whatever order
-- the pages arrive in, and re-reading a page rewrites nothing. Returns the rows written.
INSERT INTO {raw_table}
SELECT record_key, record_version, record::JSON, now(), $run_id
FROM landing_batch
QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY record_version DESC) = 1
ON CONFLICT (record_key) DO UPDATE
    SET record_version = excluded.record_version, record = excluded.record,
        loaded_at = excluded.loaded_at, run_id = excluded.run_id
    WHERE excluded.record_version > record_version
       OR (excluded.record_version = record_version AND excluded.record <> record)
