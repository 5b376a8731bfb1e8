-- Jira Service Management issues of the service-request types -> core.requests.
-- A request is fulfilled when it reached a done status with a resolution that did the work;
-- one declined (Won't Do, Declined, Duplicate ...) is canceled and never fulfilled. A request ends
-- at its resolution date, or, done without one, when it entered the done category (jira_ended_at).
WITH request_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        jira_time(record ->> '$.fields.created') AS opened_at,
        jira_ended_at(record) AS resolved_at,
        jira_time(record ->> '$.fields.updated') AS updated_at,
        lower(record ->> '$.fields.status.statusCategory.key') AS status_category,
        lower(record ->> '$.fields.resolution.name') AS resolution_name,
        jira_service(record) AS service
    FROM jira_issues_now('request')
),

category_states(status_category, state) AS (
    VALUES ('new', 'new'), ('indeterminate', 'in_progress'), ('done', 'closed')
),

requests_with_state AS (
    SELECT
        request.*,
        CASE
            WHEN request.status_category = 'done'
                AND request.resolution_name IN (
                    SELECT resolution_name FROM jira_declining_resolutions()
                )
                THEN 'canceled'
            ELSE category_states.state
        END AS state
    FROM request_fields AS request
    LEFT JOIN category_states USING (status_category)
)

SELECT
    'jira:' || request.record_key AS request_id,
    'jira' AS source,
    request.number,
    request.opened_at,
    CASE WHEN request.state = 'closed' AND request.resolved_at >= request.opened_at
        THEN request.resolved_at END AS fulfilled_at,
    CASE WHEN request.state IN ('closed', 'canceled')
            AND (request.resolved_at >= request.opened_at OR request.opened_at IS NULL)
        THEN request.resolved_at END AS closed_at,
    request.state,
    request.service,
    CAST(NULL AS VARCHAR) AS assignment_group,
    CAST(NULL AS VARCHAR) AS channel,
    request.updated_at
FROM requests_with_state AS request
