-- Freshservice tickets of type Incident -> core.incidents.
-- Codes per the API: status 2 Open, 3 Pending, 4 Resolved, 5 Closed; priority 1 Low .. 4 Urgent
-- (reversed onto 1 critical .. 5: Urgent is 1, Low is 4); source is the channel. Resolved and
-- closed times come from the ticket's stats (include=stats); times are UTC with a Z. A reopened
-- ticket keeps the stats of its earlier resolution and closing: each counts only in that status.
-- A ticket names its group by group_id alone: the group is named as /api/v2/groups names it now
-- (read whole each run, so a rename names the tickets read before it too), and a group the list
-- lacks (deleted, or not readable with the API key's role) keeps its id.
WITH ticket_fields AS (
    SELECT
        record_key,
        record_key AS number,
        record ->> '$.status' AS status_code,
        record ->> '$.priority' AS priority_code,
        record ->> '$.source' AS source_code,
        instant(record ->> '$.created_at') AS opened_at,
        instant(record ->> '$.stats.resolved_at') AS resolved_at,
        instant(record ->> '$.stats.closed_at') AS closed_at,
        instant(record ->> '$.updated_at') AS updated_at,
        nullif(record ->> '$.category', '') AS category,
        nullif(record ->> '$.group_id', '') AS group_id
    FROM raw.freshservice_tickets
    WHERE record ->> '$.type' = 'Incident'
),

ticket_states(status_code, state) AS (
    VALUES ('2', 'new'), ('3', 'on_hold'), ('4', 'resolved'), ('5', 'closed')
)

SELECT
    'freshservice:' || ticket.record_key AS incident_id,
    'freshservice' AS source,
    ticket.number,
    ticket.opened_at,
    CASE WHEN ticket_states.state IN ('resolved', 'closed')
            AND (ticket.resolved_at >= ticket.opened_at OR ticket.opened_at IS NULL)
        THEN ticket.resolved_at END AS resolved_at,
    CASE WHEN ticket_states.state = 'closed' THEN ticket.closed_at END AS closed_at,
    ticket_priorities.priority,
    ticket_states.state,
    display_name(ticket.category) AS service,
    coalesce(group_names.group_name, ticket.group_id) AS assignment_group,
    ticket.category,
    CASE WHEN ticket.source_code IS NOT NULL
        THEN coalesce(ticket_channels.channel, 'other') END AS channel,
    CAST(NULL AS INTEGER) AS reopen_count,
    CAST(NULL AS INTEGER) AS reassignment_count,
    CAST(NULL AS BOOLEAN) AS made_sla,
    CAST(NULL AS VARCHAR) AS caused_by_change_id,
    CAST(NULL AS VARCHAR) AS related_change_id,
    CAST(NULL AS VARCHAR) AS close_code,
    coalesce(lower(ticket.category) LIKE '%security%', false) AS is_security,
    ticket.updated_at
FROM ticket_fields AS ticket
LEFT JOIN ticket_states USING (status_code)
LEFT JOIN freshservice_priorities() AS ticket_priorities USING (priority_code)
LEFT JOIN freshservice_channels() AS ticket_channels USING (source_code)
LEFT JOIN freshservice_group_names() AS group_names USING (group_id)
