-- Service-request values staging could not use, one row per issue and field, named by its key.
WITH requests AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM jira_issues_now('request')
),

unparseable_dates AS (
    SELECT * FROM jira_unparseable_dates('raw.jira_requests')
),

unknown_status_categories AS (
    SELECT number, 'status' AS field, 'unknown status category' AS problem,
           record ->> '$.fields.status.statusCategory.key' AS value
    FROM requests
    WHERE coalesce(record ->> '$.fields.status.statusCategory.key', '')
        NOT IN ('new', 'indeterminate', 'done')
),

resolved_before_created AS (
    SELECT * FROM jira_resolved_before_created('request', 'fulfilled_at and closed_at')
),

done_without_end AS (
    SELECT * FROM jira_done_without_end('request')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_status_categories
    UNION ALL SELECT * FROM resolved_before_created
    UNION ALL SELECT * FROM done_without_end
)

SELECT
    'jira' AS source,
    'requests' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
