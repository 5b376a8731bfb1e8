-- Requested-item values staging could not use, one row per record and field, named by the number.
WITH requests AS (
    SELECT
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record
    FROM raw.servicenow_sc_req_item
),

unparseable_dates AS (
    SELECT number, field, problem, value
    FROM servicenow_unparseable_dates(
        'raw.servicenow_sc_req_item',
        ['opened_at', 'closed_at', 'sys_updated_on']
    )
),

unknown_states AS (
    SELECT number, 'state' AS field, 'unknown state code' AS problem,
           record ->> '$.state.value' AS value
    FROM requests
    WHERE coalesce(record ->> '$.state.value', '') NOT IN ('-5', '1', '2', '3', '4', '7')
),

closed_before_opened AS (
    SELECT number, 'closed_at' AS field, 'closed before opened' AS problem,
           record ->> '$.closed_at.value' AS value
    FROM requests
    WHERE servicenow_time(record ->> '$.closed_at.value')
        < servicenow_time(record ->> '$.opened_at.value')
),

-- Closed (complete 3, incomplete 4, skipped 7) without the closed_at that closing sets: with no
-- end time, no KPI counts the request.
closed_without_time AS (
    SELECT number, 'closed_at' AS field,
           'closed without closed_at (no end time: not counted)' AS problem, NULL AS value
    FROM requests
    WHERE record ->> '$.state.value' IN ('3', '4', '7')
        AND NOT servicenow_date_set(record ->> '$.closed_at.value')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_states
    UNION ALL SELECT * FROM closed_before_opened
    UNION ALL SELECT * FROM closed_without_time
)

SELECT
    'servicenow' AS source,
    'requests' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
