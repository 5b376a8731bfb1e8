-- Change values staging could not use, one row per record and field, named by the number.
WITH changes AS (
    SELECT
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record ->> '$.state.value' AS state_code,
        record ->> '$.close_code.value' AS close_code,
        record
    FROM raw.servicenow_change_request
),

unparseable_dates AS (
    SELECT number, field, problem, value
    FROM servicenow_unparseable_dates(
        'raw.servicenow_change_request',
        [
            'opened_at', 'start_date', 'end_date', 'work_start', 'work_end', 'closed_at',
            'sys_updated_on'
        ]
    )
),

unknown_states AS (
    SELECT number, 'state' AS field, 'unknown state code' AS problem, state_code AS value
    FROM changes
    WHERE coalesce(state_code, '') NOT IN ('-5', '-4', '-3', '-2', '-1', '0', '3', '4')
),

unknown_close_codes AS (
    SELECT number, 'close_code' AS field,
           CASE WHEN coalesce(close_code, '') = '' THEN 'closed without close_code'
                ELSE 'unknown close_code' END AS problem,
           close_code AS value
    FROM changes
    WHERE state_code = '3'
      AND coalesce(close_code, '') NOT IN ('successful', 'successful_issues', 'unsuccessful')
),

ended_before_started AS (
    SELECT number, 'work_end' AS field, 'work_end before work_start' AS problem,
           record ->> '$.work_end.value' AS value
    FROM changes
    WHERE servicenow_time(record ->> '$.work_end.value')
        < servicenow_time(record ->> '$.work_start.value')
),

-- Closed (3) without closed_at or work_end: a deployment counts at one of them, so none
-- counts this change.
closed_without_time AS (
    SELECT number, 'closed_at' AS field,
           'closed without closed_at or work_end (no end time: not counted)' AS problem,
           NULL AS value
    FROM changes
    WHERE state_code = '3'
        AND NOT servicenow_date_set(record ->> '$.closed_at.value')
        AND NOT servicenow_date_set(record ->> '$.work_end.value')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_states
    UNION ALL SELECT * FROM unknown_close_codes
    UNION ALL SELECT * FROM ended_before_started
    UNION ALL SELECT * FROM closed_without_time
)

SELECT
    'servicenow' AS source,
    'changes' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
