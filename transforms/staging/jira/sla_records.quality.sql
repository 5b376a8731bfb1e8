-- SLA cycles staging could not use, named by the issue key and the SLA's name.
WITH cycles AS (
    SELECT
        (record ->> '$.key') || ' / ' || (sla ->> '$.name') AS number,
        unnest(CAST(sla -> '$.completedCycles' AS JSON[])) AS cycle
    FROM (
        SELECT record, unnest(CAST(record -> '$.values' AS JSON[])) AS sla
        FROM raw.jira_sla
    )
),

unreadable_times AS (
    SELECT number, time_fields.field, 'unreadable epochMillis' AS problem,
           cycle ->> ('$.' || time_fields.field || '.epochMillis') AS value
    FROM cycles, unnest(['startTime', 'stopTime']) AS time_fields(field)
    WHERE try_cast(cycle ->> ('$.' || time_fields.field || '.epochMillis') AS BIGINT) IS NULL
),

stopped_before_started AS (
    SELECT number, 'stopTime' AS field, 'stopped before started' AS problem,
           cycle ->> '$.stopTime.iso8601' AS value
    FROM cycles
    WHERE try_cast(cycle ->> '$.stopTime.epochMillis' AS BIGINT)
        < try_cast(cycle ->> '$.startTime.epochMillis' AS BIGINT)
),

problems AS (
    SELECT * FROM unreadable_times
    UNION ALL SELECT * FROM stopped_before_started
)

SELECT
    'jira' AS source,
    'sla_records' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
