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
;

-- The resolution time of every completed incident as facts, with why it cannot count if so.
-- Resolution, restore and security resolution times differ only in which incidents they take
-- (filter on the last four columns, then leave them out).
CREATE OR REPLACE TEMP VIEW incident_resolutions AS
WITH incidents_judged AS (
    SELECT
        *,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), state) THEN 'excluded: canceled'
            WHEN resolved_at IS NULL THEN 'excluded: closed without resolved_at'
            WHEN opened_at IS NULL THEN 'excluded: no opened_at'
            WHEN resolution_hours < 0 THEN 'excluded: resolved before opened'
        END AS exclusion
    FROM kpi.completed_incidents
)
SELECT
    'incident' AS record_table,
    incident_id AS record_id,
    completed_at,
    service,
    assignment_group,
    priority_label AS priority,
    source,
    resolution_hours AS num,
    1.0 AS den,
    resolution_hours AS x,
    exclusion IS NULL AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note,
    priority AS priority_level,
    caused_by_change_id,
    is_security,
    category
FROM incidents_judged
