-- Every version of a stream's records as landed, in landing order. A removal (deletion log,
-- window restated, full-refresh sweep) is a row too, with removed = true and no record.
CREATE TABLE IF NOT EXISTS {versions_table} (
    record_key      VARCHAR NOT NULL,
    record_version  VARCHAR NOT NULL,
    record          JSON,
    loaded_at       TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR,
    landing_seq     BIGINT NOT NULL,
    removed         BOOLEAN NOT NULL
)
