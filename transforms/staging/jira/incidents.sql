-- Jira Service Management issues of the incident types (JIRA_ISSUE_TYPES) -> core.incidents.
-- Timestamps carry the account's offset without a colon ('2025-06-01T21:00:00.000+0900') and
-- become UTC. The state comes from the status name where it is a known one, else from the
-- status category; a done issue whose resolution declines the work is canceled. An issue ends
-- at its resolution date, or, done without one, when it entered the done category (jira_ended_at).
WITH issue_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        jira_time(record ->> '$.fields.created') AS opened_at,
        jira_ended_at(record) AS resolved_at,
        jira_time(record ->> '$.fields.updated') AS updated_at,
        priority_level(record ->> '$.fields.priority.name') AS priority,
        lower(record ->> '$.fields.status.name') AS status_name,
        lower(record ->> '$.fields.status.statusCategory.key') AS status_category,
        lower(record ->> '$.fields.resolution.name') AS resolution_name,
        record ->> '$.fields.resolution.name' AS resolution,
        jira_service(record) AS service,
        record ->> '$.fields.issuetype.name' AS category
    FROM jira_issues_now('incident')
),

status_states(status_name, state) AS (
    VALUES ('open', 'new'), ('to do', 'new'), ('waiting for support', 'new'),
           ('in progress', 'in_progress'), ('work in progress', 'in_progress'),
           ('escalated', 'in_progress'),
           ('pending', 'on_hold'), ('waiting for customer', 'on_hold'), ('on hold', 'on_hold'),
           ('resolved', 'resolved'), ('done', 'resolved'), ('completed', 'resolved'),
           ('closed', 'closed'),
           ('canceled', 'canceled'), ('cancelled', 'canceled'), ('declined', 'canceled')
),

category_states(status_category, state) AS (
    VALUES ('new', 'new'), ('indeterminate', 'in_progress'), ('done', 'resolved')
),

issues_with_state AS (
    SELECT
        issue.*,
        CASE
            WHEN issue.status_category = 'done'
                AND issue.resolution_name IN (
                    SELECT resolution_name FROM jira_declining_resolutions()
                )
                THEN 'canceled'
            ELSE coalesce(status_states.state, category_states.state)
        END AS state
    FROM issue_fields AS issue
    LEFT JOIN status_states USING (status_name)
    LEFT JOIN category_states USING (status_category)
)

SELECT
    'jira:' || issue.record_key AS incident_id,
    'jira' AS source,
    issue.number,
    issue.opened_at,
    CASE WHEN issue.state IN ('resolved', 'closed')
            AND (issue.resolved_at >= issue.opened_at OR issue.opened_at IS NULL)
        THEN issue.resolved_at END AS resolved_at,
    -- The same resolution date closes the issue: one before its creation is left out here too.
    CASE WHEN issue.state IN ('closed', 'canceled')
            AND (issue.resolved_at >= issue.opened_at OR issue.opened_at IS NULL)
        THEN issue.resolved_at END AS closed_at,
    issue.priority,
    issue.state,
    issue.service,
    CAST(NULL AS VARCHAR) AS assignment_group,
    issue.category,
    CAST(NULL AS VARCHAR) AS channel,
    CAST(NULL AS INTEGER) AS reopen_count,
    CAST(NULL AS INTEGER) AS reassignment_count,
    CAST(NULL AS BOOLEAN) AS made_sla,
    CAST(NULL AS VARCHAR) AS caused_by_change_id,
    CAST(NULL AS VARCHAR) AS related_change_id,
    issue.resolution AS close_code,
    false AS is_security,
    issue.updated_at
FROM issues_with_state AS issue
