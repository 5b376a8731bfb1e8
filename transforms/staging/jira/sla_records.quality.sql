-- SLA cycles staging could not use, named by the issue key and the SLA's name.
WITH cycles AS (
    SELECT
        (record ->> '$.key') || ' / ' || (sla ->> '$.name') AS number,
        unnest(json_elements(sla -> '$.completedCycles')) AS cycle
    FROM (
        SELECT record, unnest(json_elements(record -> '$.values')) AS sla
        FROM raw.jira_sla
    )
),

unreadable_times AS (
    SELECT number, time_fields.field,
           CASE WHEN placeholder_time(jira_millis_as_written(
                   cycle ->> ('$.' || time_fields.field || '.epochMillis')))
               THEN 'epochMillis before 2000 (a placeholder): left empty'
               ELSE 'unreadable epochMillis'
           END AS problem,
           cycle ->> ('$.' || time_fields.field || '.epochMillis') AS value
    FROM cycles, unnest(['startTime', 'stopTime']) AS time_fields(field)
    WHERE jira_millis(cycle ->> ('$.' || time_fields.field || '.epochMillis')) IS NULL
),

-- A stopped cycle whose breached flag is missing or not true or false: sla_attainment cannot
-- tell met from breached, so it counts the cycle on neither side.
unknown_breached AS (
    SELECT number, 'breached' AS field, 'breached is not true or false (cycle not counted)'
               AS problem,
           cycle ->> '$.breached' AS value
    FROM cycles
    WHERE try_cast(cycle ->> '$.breached' AS BOOLEAN) IS NULL
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
    UNION ALL SELECT * FROM unknown_breached
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
