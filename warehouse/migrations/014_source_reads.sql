-- When each paging source was last read to its end without an error, from the moment that read
-- started: every record the source changed before then is in the warehouse. The KPI step counts
-- a period complete only once the sources of its records were read after it ended, so a night
-- the source was down does not close a month with its last day missing.
CREATE TABLE meta.source_reads (
    source   VARCHAR PRIMARY KEY,
    read_at  TIMESTAMPTZ NOT NULL,
    run_id   VARCHAR
);
