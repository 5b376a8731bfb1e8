-- Jira Service Management issues of the change types -> core.changes.
-- The outcome is read from the resolution once the change is done; a declined change is
-- canceled, with no outcome, so change failure rate leaves it out of both sides. Change type,
-- risk and the planned and actual windows live in site-specific custom fields and stay empty.
-- A change ends at its resolution date, or, done without one, when it entered the done category
-- (jira_ended_at).
WITH change_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        jira_time(record ->> '$.fields.created') AS opened_at,
        jira_ended_at(record) AS resolved_at,
        jira_time(record ->> '$.fields.updated') AS updated_at,
        lower(record ->> '$.fields.status.statusCategory.key') AS status_category,
        lower(record ->> '$.fields.resolution.name') AS resolution_name,
        jira_service(record) AS service
    FROM jira_issues_now('change')
),

category_states(status_category, state) AS (
    VALUES ('new', 'new'), ('indeterminate', 'implement'), ('done', 'closed')
),

change_outcomes(resolution_name, outcome, backed_out) AS (
    VALUES ('done', 'successful', false), ('fixed', 'successful', false),
           ('successful', 'successful', false), ('completed', 'successful', false),
           ('done with issues', 'successful_issues', false),
           ('successful with issues', 'successful_issues', false),
           ('failed', 'unsuccessful', false), ('unsuccessful', 'unsuccessful', false),
           ('backed out', 'unsuccessful', true), ('rolled back', 'unsuccessful', true)
),

declining_resolutions(resolution_name) AS (
    VALUES ('won''t do'), ('declined'), ('duplicate'), ('canceled'), ('cancelled')
),

changes_with_state AS (
    SELECT
        change.*,
        CASE
            WHEN change.status_category = 'done'
                AND change.resolution_name IN (SELECT resolution_name FROM declining_resolutions)
                THEN 'canceled'
            ELSE category_states.state
        END AS state
    FROM change_fields AS change
    LEFT JOIN category_states USING (status_category)
)

SELECT
    'jira:' || change.record_key AS change_id,
    'jira' AS source,
    change.number,
    CAST(NULL AS VARCHAR) AS type,
    CAST(NULL AS VARCHAR) AS risk,
    change.state,
    CASE WHEN change.state = 'closed' THEN change_outcomes.outcome END AS outcome,
    change.opened_at,
    CAST(NULL AS TIMESTAMPTZ) AS planned_start,
    CAST(NULL AS TIMESTAMPTZ) AS planned_end,
    CAST(NULL AS TIMESTAMPTZ) AS actual_start,
    CAST(NULL AS TIMESTAMPTZ) AS actual_end,
    CASE WHEN change.state IN ('closed', 'canceled') THEN change.resolved_at END AS closed_at,
    change.service,
    CAST(NULL AS VARCHAR) AS assignment_group,
    CASE WHEN change.state = 'closed' THEN coalesce(change_outcomes.backed_out, false)
        END AS backed_out,
    CAST(NULL AS BOOLEAN) AS is_production,
    change.updated_at
FROM changes_with_state AS change
LEFT JOIN change_outcomes USING (resolution_name)
