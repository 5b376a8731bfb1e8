-- Incident values staging could not use, one row per issue and field, named by the issue key.
WITH issues AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM raw.jira_incidents
),

issue_dates AS (
    SELECT number, date_fields.field, record ->> ('$.fields.' || date_fields.field) AS value
    FROM issues, unnest(['created', 'updated', 'resolutiondate']) AS date_fields(field)
),

unparseable_dates AS (
    SELECT number, field, 'unparseable date' AS problem, value
    FROM issue_dates
    WHERE value IS NOT NULL
        AND try_strptime(value, '%Y-%m-%dT%H:%M:%S.%g%z') IS NULL
),

unknown_priorities AS (
    SELECT number, 'priority' AS field, 'unknown priority' AS problem,
           record ->> '$.fields.priority.name' AS value
    FROM issues
    WHERE lower(coalesce(record ->> '$.fields.priority.name', '')) NOT IN (
        'highest', 'critical', 'blocker', 'p1', 'high', 'major', 'p2', 'medium', 'p3',
        'low', 'minor', 'p4', 'lowest', 'trivial', 'p5'
    )
),

unknown_status_categories AS (
    SELECT number, 'status' AS field, 'unknown status category' AS problem,
           record ->> '$.fields.status.statusCategory.key' AS value
    FROM issues
    WHERE coalesce(record ->> '$.fields.status.statusCategory.key', '')
        NOT IN ('new', 'indeterminate', 'done')
),

resolved_before_created AS (
    SELECT number, 'resolutiondate' AS field,
           'resolved before created (resolved_at left empty)' AS problem,
           record ->> '$.fields.resolutiondate' AS value
    FROM issues
    WHERE try_strptime(record ->> '$.fields.resolutiondate', '%Y-%m-%dT%H:%M:%S.%g%z')
        < try_strptime(record ->> '$.fields.created', '%Y-%m-%dT%H:%M:%S.%g%z')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_priorities
    UNION ALL SELECT * FROM unknown_status_categories
    UNION ALL SELECT * FROM resolved_before_created
)

SELECT
    'jira' AS source,
    'incidents' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
