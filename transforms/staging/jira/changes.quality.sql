-- Change values staging could not use, one row per issue and field, named by the issue key.
WITH changes AS (
    SELECT coalesce(nullif(record ->> '$.key', ''), record_key) AS number, record
    FROM jira_issues_now('change')
),

unparseable_dates AS (
    SELECT * FROM jira_unparseable_dates('raw.jira_changes')
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

done_without_end AS (
    SELECT * FROM jira_done_without_end('change')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_resolutions
    UNION ALL SELECT * FROM done_without_end
)

SELECT
    'jira' AS source,
    'changes' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
