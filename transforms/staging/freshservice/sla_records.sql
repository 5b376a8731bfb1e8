-- Freshservice due-by times -> core.sla_records: each ticket has a first-response clock
-- (fr_due_by, stopped by stats.first_responded_at) and a resolution clock (due_by, stopped by
-- stats.resolved_at, or stats.closed_at for a ticket closed without one). The resolution clock
-- stops only while the ticket is resolved or closed (status 4 or 5): a reopened ticket keeps its
-- old stats.resolved_at, and its clock runs again. A clock that stopped after its due time is
-- breached; one still running is in progress.
WITH tickets AS (
    SELECT
        record_key,
        CASE record ->> '$.type' WHEN 'Incident' THEN 'incident'
            WHEN 'Service Request' THEN 'request' END AS task_type,
        instant(record ->> '$.created_at') AS opened_at,
        instant(record ->> '$.updated_at') AS updated_at,
        display_name(record ->> '$.category') AS service,
        record ->> '$.priority' AS priority_code,
        coalesce(record ->> '$.status' IN ('4', '5'), false) AS is_done,
        record
    FROM raw.freshservice_tickets
),

clocks(clock, sla_name, due_field, stop_field, stops_when_done) AS (
    VALUES ('first_response', 'First response', 'fr_due_by', 'first_responded_at', false),
           ('resolution', 'Resolution', 'due_by', 'resolved_at', true)
),

ticket_clocks AS (
    SELECT
        tickets.*,
        clocks.clock,
        clocks.sla_name,
        instant(record ->> ('$.' || clocks.due_field)) AS breach_time,
        CASE
            WHEN NOT clocks.stops_when_done
                THEN instant(record ->> ('$.stats.' || clocks.stop_field))
            WHEN tickets.is_done THEN coalesce(
                instant(record ->> ('$.stats.' || clocks.stop_field)),
                instant(record ->> '$.stats.closed_at')
            )
        END AS end_time
    FROM tickets CROSS JOIN clocks
)

SELECT
    'freshservice:' || ticket.record_key || ':' || ticket.clock AS sla_record_id,
    'freshservice' AS source,
    'freshservice:' || ticket.record_key AS task_id,
    ticket.record_key AS task_number,
    ticket.task_type,
    ticket.sla_name,
    CASE WHEN ticket.end_time IS NULL THEN 'in_progress' ELSE 'completed' END AS stage,
    -- A clock stopped before the ticket was created (the quality queries list a resolution
    -- before creation) tells neither met nor breached: SLA attainment counts it on neither side.
    CASE
        WHEN ticket.end_time IS NOT NULL
            AND NOT coalesce(ticket.end_time < ticket.opened_at, false)
            THEN ticket.end_time > ticket.breach_time
    END AS breached,
    ticket.opened_at AS start_time,
    ticket.end_time,
    ticket.breach_time,
    CAST(NULL AS DOUBLE) AS pause_duration_seconds,
    ticket.service,
    ticket_priorities.priority,
    ticket.updated_at
FROM ticket_clocks AS ticket
LEFT JOIN freshservice_priorities() AS ticket_priorities USING (priority_code)
WHERE ticket.breach_time IS NOT NULL
