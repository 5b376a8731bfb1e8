-- Change values staging could not use, one row per change and field, named by the change id.
WITH changes AS (
    SELECT record_key AS number, record FROM raw.freshservice_changes
),

unparseable_times AS (
    SELECT * FROM freshservice_unparseable_times(
        'raw.freshservice_changes',
        ['created_at', 'updated_at', 'planned_start_date', 'planned_end_date']
    )
),

unknown_codes AS (
    SELECT number, code_fields.field, 'unknown ' || code_fields.field || ' code' AS problem,
           record ->> ('$.' || code_fields.field) AS value
    FROM changes, unnest(['status', 'change_type', 'risk']) AS code_fields(field)
    WHERE NOT list_contains(
        CASE WHEN code_fields.field = 'status' THEN ['1', '2', '3', '4', '5', '6']
            ELSE ['1', '2', '3', '4'] END,
        coalesce(record ->> ('$.' || code_fields.field), '')
    )
),

planned_end_before_start AS (
    SELECT number, 'planned_end_date' AS field, 'planned end before planned start' AS problem,
           record ->> '$.planned_end_date' AS value
    FROM changes
    WHERE instant(record ->> '$.planned_end_date')
        < instant(record ->> '$.planned_start_date')
),

problems AS (
    SELECT * FROM unparseable_times
    UNION ALL SELECT * FROM unknown_codes
    UNION ALL SELECT * FROM planned_end_before_start
)

SELECT
    'freshservice' AS source,
    'changes' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
