-- Service-request values staging could not use, one row per issue and field, named by its key.
WITH requests AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM raw.jira_requests
),

request_dates AS (
    SELECT number, date_fields.field, record ->> ('$.fields.' || date_fields.field) AS value
    FROM requests, unnest(['created', 'updated', 'resolutiondate']) AS date_fields(field)
),

unparseable_dates AS (
    SELECT number, field, 'unparseable date' AS problem, value
    FROM request_dates
    WHERE value IS NOT NULL
        AND try_strptime(value, '%Y-%m-%dT%H:%M:%S.%g%z') IS NULL
),

unknown_status_categories AS (
    SELECT number, 'status' AS field, 'unknown status category' AS problem,
           record ->> '$.fields.status.statusCategory.key' AS value
    FROM requests
    WHERE coalesce(record ->> '$.fields.status.statusCategory.key', '')
        NOT IN ('new', 'indeterminate', 'done')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_status_categories
)

SELECT
    'jira' AS source,
    'requests' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
