-- PagerDuty incidents -> core.incidents, beside the ITSM sources' tickets (source 'pagerduty').
-- Status: triggered is new, acknowledged is being worked, resolved is resolved (PagerDuty has no
-- separate close). Priority P1..P5 when the account sets one (by its level, also when the
-- account renamed the levels: SEV-1, "P2 - High"); otherwise urgency stands in: high pages
-- someone now (2, high), low waits for working hours (4, low). The service's current name
-- comes from /services, else from the incident's own reference; the first team is the group.
-- An incident shows its team's name as it was when the incident was read, and renaming a team
-- updates no incident, so each team id takes the name of the latest read that shows it (then
-- the newer version): the incidents read before a rename are named as those read after it.
-- An incident merged into another (resolved with resolve_reason merge_resolve_reason; its alerts
-- now belong to the other) stays, traceable, as canceled with close_code 'merged'. It gets no
-- resolved_at, as a canceled Jira issue: a merge resolves nothing, and bi.incidents reads
-- resolution hours from it. closed_at keeps the merge time, so the KPIs note "excluded: canceled".
WITH incident_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.incident_number', ''), record_key) AS number,
        instant(record ->> '$.created_at') AS opened_at,
        instant(record ->> '$.resolved_at') AS resolved_at,
        instant(record ->> '$.updated_at') AS updated_at,
        record ->> '$.status' AS status,
        record ->> '$.resolve_reason.type' = 'merge_resolve_reason' AS is_merged,
        lower(record ->> '$.urgency') AS urgency,
        priority_level(record ->> '$.priority.summary') AS priority,
        record ->> '$.service.id' AS service_id,
        display_name(record ->> '$.service.summary') AS service_summary,
        record ->> '$.teams[0].id' AS team_id,
        display_name(record ->> '$.teams[0].summary') AS team_summary,
        loaded_at
    FROM raw.pagerduty_incidents
),

team_names AS (
    SELECT team_id, arg_max(team_summary, (loaded_at, updated_at, team_summary)) AS team
    FROM incident_fields
    WHERE team_id IS NOT NULL AND team_summary IS NOT NULL
    GROUP BY team_id
),

services AS (
    SELECT record_key AS service_id, display_name(record ->> '$.name') AS service_name
    FROM raw.pagerduty_services
),

incident_states(status, state) AS (
    VALUES ('triggered', 'new'), ('acknowledged', 'in_progress'), ('resolved', 'resolved')
),

incidents_with_state AS (
    SELECT
        incident.*,
        CASE WHEN incident.is_merged THEN 'canceled' ELSE incident_states.state END AS state,
        CASE WHEN incident.is_merged THEN 'merged' END AS close_code
    FROM incident_fields AS incident
    LEFT JOIN incident_states USING (status)
),

urgency_levels(urgency, urgency_priority) AS (
    VALUES ('high', 2), ('low', 4)
)

SELECT
    'pagerduty:' || incident.record_key AS incident_id,
    'pagerduty' AS source,
    incident.number,
    incident.opened_at,
    CASE WHEN incident.state = 'resolved'
            AND (incident.resolved_at >= incident.opened_at OR incident.opened_at IS NULL)
        THEN incident.resolved_at END AS resolved_at,
    CASE WHEN incident.state IN ('resolved', 'canceled') THEN incident.resolved_at END AS closed_at,
    coalesce(incident.priority, urgency_levels.urgency_priority) AS priority,
    incident.state,
    coalesce(services.service_name, incident.service_summary) AS service,
    coalesce(team_names.team, incident.team_summary) AS assignment_group,
    CAST(NULL AS VARCHAR) AS category,
    'monitoring' AS channel,
    CAST(NULL AS INTEGER) AS reopen_count,
    CAST(NULL AS INTEGER) AS reassignment_count,
    CAST(NULL AS BOOLEAN) AS made_sla,
    CAST(NULL AS VARCHAR) AS caused_by_change_id,
    CAST(NULL AS VARCHAR) AS related_change_id,
    incident.close_code,
    false AS is_security,
    incident.updated_at
FROM incidents_with_state AS incident
LEFT JOIN services USING (service_id)
LEFT JOIN team_names USING (team_id)
LEFT JOIN urgency_levels USING (urgency)
