-- SLA clock values staging could not use, one row per record and field.
-- A clock has no number of its own; it is named by its task's number and its SLA.
WITH clocks AS (
    SELECT
        coalesce(
            nullif(record ->> '$.task.display_value', '') || ' / '
                || coalesce(nullif(record ->> '$.sla.display_value', ''), record_key),
            record_key
        ) AS number,
        record_key,
        record
    FROM raw.servicenow_task_sla
),

unparseable_dates AS (
    SELECT clocks.number, dates.field, dates.problem, dates.value
    FROM servicenow_unparseable_dates(
        'raw.servicenow_task_sla',
        ['start_time', 'end_time', 'planned_end_time', 'sys_updated_on']
    ) AS dates
    JOIN clocks USING (record_key)
),

-- A duration is written as a time after 1970-01-01, so it is read as written.
unparseable_durations AS (
    SELECT number, 'pause_duration' AS field, 'unparseable duration' AS problem,
           record ->> '$.pause_duration.value' AS value
    FROM clocks
    WHERE record ->> '$.pause_duration.value' <> ''
        AND servicenow_time_as_written(record ->> '$.pause_duration.value') IS NULL
),

unknown_stages AS (
    SELECT number, 'stage' AS field, 'unknown stage' AS problem,
           record ->> '$.stage.value' AS value
    FROM clocks
    WHERE lower(coalesce(record ->> '$.stage.value', '')) NOT IN
        ('in_progress', 'paused', 'cancelled', 'completed', 'breached', 'achieved')
),

-- A flag set but not true or false: a stopped clock then counts on neither side of SLA
-- attainment, unless its stage says breached.
unreadable_breached AS (
    SELECT clocks.number, flags.field, flags.problem, flags.value
    FROM servicenow_unreadable_flags('raw.servicenow_task_sla', ['has_breached']) AS flags
    JOIN clocks USING (record_key)
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unparseable_durations
    UNION ALL SELECT * FROM unknown_stages
    UNION ALL SELECT * FROM unreadable_breached
)

SELECT
    'servicenow' AS source,
    'sla_records' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
