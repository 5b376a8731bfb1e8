-- Freshservice tickets of type Service Request -> core.requests.
-- A request is fulfilled when it was resolved (status 4 or 5, stats.resolved_at), and closed
-- only while it is Closed (5): a reopened ticket keeps the stats.closed_at of its earlier closing.
-- The group is named as /api/v2/groups names it now; a group the list lacks keeps its id.
WITH ticket_fields AS (
    SELECT
        record_key,
        record ->> '$.status' AS status_code,
        record ->> '$.source' AS source_code,
        instant(record ->> '$.created_at') AS opened_at,
        instant(record ->> '$.stats.resolved_at') AS resolved_at,
        instant(record ->> '$.stats.closed_at') AS closed_at,
        instant(record ->> '$.updated_at') AS updated_at,
        nullif(record ->> '$.category', '') AS category,
        nullif(record ->> '$.group_id', '') AS group_id
    FROM raw.freshservice_tickets
    WHERE record ->> '$.type' = 'Service Request'
),

request_states(status_code, state, fulfilled) AS (
    VALUES ('2', 'new', false), ('3', 'in_progress', false), ('4', 'closed', true),
           ('5', 'closed', true)
)

SELECT
    'freshservice:' || ticket.record_key AS request_id,
    'freshservice' AS source,
    ticket.record_key AS number,
    ticket.opened_at,
    CASE WHEN request_states.fulfilled AND ticket.resolved_at >= ticket.opened_at
        THEN ticket.resolved_at END AS fulfilled_at,
    CASE WHEN ticket.status_code = '5' THEN ticket.closed_at END AS closed_at,
    request_states.state,
    display_name(ticket.category) AS service,
    coalesce(group_names.group_name, ticket.group_id) AS assignment_group,
    CASE WHEN ticket.source_code IS NOT NULL
        THEN coalesce(ticket_channels.channel, 'other') END AS channel,
    ticket.updated_at
FROM ticket_fields AS ticket
LEFT JOIN request_states USING (status_code)
LEFT JOIN freshservice_channels() AS ticket_channels USING (source_code)
LEFT JOIN freshservice_group_names() AS group_names USING (group_id)
