-- The columns a metric SQL file may produce, one row per record; those it leaves out are NULL.
-- (Declared as an empty table so the runner can read the names and types.)
CREATE OR REPLACE TEMP TABLE metric_facts_input (
    record_table      VARCHAR,
    record_id         VARCHAR,
    completed_at      TIMESTAMPTZ,
    local_day         DATE,
    span_last         DATE,
    fill_bucket       BOOLEAN,
    weight_by_span    BOOLEAN,
    service           VARCHAR,
    assignment_group  VARCHAR,
    priority          VARCHAR,
    source            VARCHAR,
    provider          VARCHAR,
    service_category  VARCHAR,
    initiative        VARCHAR,
    num               DOUBLE,
    den               DOUBLE,
    x                 DOUBLE,
    in_numerator      BOOLEAN,
    in_denominator    BOOLEAN,
    counts_in_n       BOOLEAN,
    record_count      BIGINT,
    note              VARCHAR
)
