-- Change values staging could not use, one row per issue and field, named by the issue key.
WITH changes AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM raw.jira_changes
),

change_dates AS (
    SELECT number, date_fields.field, record ->> ('$.fields.' || date_fields.field) AS value
    FROM changes, unnest(['created', 'updated', 'resolutiondate']) AS date_fields(field)
),

unparseable_dates AS (
    SELECT number, field, 'unparseable date' AS problem, value
    FROM change_dates
    WHERE value IS NOT NULL
        AND try_strptime(value, '%Y-%m-%dT%H:%M:%S.%g%z') IS NULL
),

unknown_resolutions AS (
    SELECT number, 'resolution' AS field,
           'done without a resolution that says how it went' AS problem,
           record ->> '$.fields.resolution.name' AS value
    FROM changes
    WHERE record ->> '$.fields.status.statusCategory.key' = 'done'
        AND lower(coalesce(record ->> '$.fields.resolution.name', '')) NOT IN (
            'done', 'fixed', 'successful', 'completed', 'done with issues',
            'successful with issues', 'failed', 'unsuccessful', 'backed out', 'rolled back',
            'won''t do', 'declined', 'duplicate', 'canceled', 'cancelled'
        )
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_resolutions
)

SELECT
    'jira' AS source,
    'changes' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
