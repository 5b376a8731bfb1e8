-- PagerDuty incident values staging could not use, one row per incident and field, named by
-- the incident number.
WITH incidents AS (
    SELECT coalesce(nullif(record ->> '$.incident_number', ''), record_key) AS number, record
    FROM raw.pagerduty_incidents
),

incident_times AS (
    SELECT number, time_fields.field, record ->> ('$.' || time_fields.field) AS value
    FROM incidents, unnest(['created_at', 'updated_at', 'resolved_at']) AS time_fields(field)
),

unparseable_times AS (
    SELECT number, field, time_problem(try_cast(value AS TIMESTAMPTZ), 'time') AS problem, value
    FROM incident_times
    WHERE value IS NOT NULL AND instant(value) IS NULL
),

unknown_statuses AS (
    SELECT number, 'status' AS field, 'unknown status' AS problem, record ->> '$.status' AS value
    FROM incidents
    WHERE coalesce(record ->> '$.status', '') NOT IN ('triggered', 'acknowledged', 'resolved')
),

-- A priority whose name gives no level (priority_level) leaves urgency to stand in.
unknown_priorities AS (
    SELECT number, 'priority' AS field, 'unknown priority (urgency stands in)' AS problem,
           record ->> '$.priority.summary' AS value
    FROM incidents
    WHERE record ->> '$.priority.summary' IS NOT NULL
        AND priority_level(record ->> '$.priority.summary') IS NULL
),

unknown_urgencies AS (
    SELECT number, 'urgency' AS field, 'unknown urgency (and no priority)' AS problem,
           record ->> '$.urgency' AS value
    FROM incidents
    WHERE priority_level(record ->> '$.priority.summary') IS NULL
        AND lower(coalesce(record ->> '$.urgency', '')) NOT IN ('high', 'low')
),

resolved_before_created AS (
    SELECT number, 'resolved_at' AS field,
           'resolved before created (resolved_at left empty)' AS problem,
           record ->> '$.resolved_at' AS value
    FROM incidents
    WHERE instant(record ->> '$.resolved_at')
        < instant(record ->> '$.created_at')
),

problems AS (
    SELECT * FROM unparseable_times
    UNION ALL SELECT * FROM unknown_statuses
    UNION ALL SELECT * FROM unknown_priorities
    UNION ALL SELECT * FROM unknown_urgencies
    UNION ALL SELECT * FROM resolved_before_created
)

SELECT
    'pagerduty' AS source,
    'incidents' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
