-- Incident values staging could not use, one row per issue and field, named by the issue key.
WITH issues AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM jira_issues_now('incident')
),

unparseable_dates AS (
    SELECT * FROM jira_unparseable_dates('raw.jira_incidents')
),

unknown_priorities AS (
    SELECT number, 'priority' AS field,
           CASE WHEN record ->> '$.fields.priority.name' IS NULL THEN 'no priority'
                ELSE 'unknown priority' END AS problem,
           record ->> '$.fields.priority.name' AS value
    FROM issues
    WHERE priority_level(record ->> '$.fields.priority.name') IS NULL
),

unknown_status_categories AS (
    SELECT number, 'status' AS field, 'unknown status category' AS problem,
           record ->> '$.fields.status.statusCategory.key' AS value
    FROM issues
    WHERE coalesce(record ->> '$.fields.status.statusCategory.key', '')
        NOT IN ('new', 'indeterminate', 'done')
),

resolved_before_created AS (
    SELECT * FROM jira_resolved_before_created('incident', 'resolved_at and closed_at')
),

done_without_end AS (
    SELECT * FROM jira_done_without_end('incident')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_priorities
    UNION ALL SELECT * FROM unknown_status_categories
    UNION ALL SELECT * FROM resolved_before_created
    UNION ALL SELECT * FROM done_without_end
)

SELECT
    'jira' AS source,
    'incidents' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
