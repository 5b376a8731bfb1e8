-- A raw table from before migration 009 (one row per key, merged in place) becomes the first
-- versions of its records; the view that replaces it shows exactly the same rows.
INSERT INTO {versions_table}
SELECT record_key, record_version, record, loaded_at, run_id,
       nextval('meta.landing_sequence'), false
FROM {raw_table};
DROP TABLE {raw_table};
