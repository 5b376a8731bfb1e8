-- Macros the Freshservice staging queries share (the shared ones are in ../macros.sql).

-- Each Freshservice agent group id with its name as /api/v2/groups names it now (a ticket names
-- its group by id alone); incidents and requests alike.
CREATE OR REPLACE TEMP MACRO freshservice_group_names() AS TABLE
    SELECT record_key AS group_id, display_name(record ->> '$.name') AS group_name
    FROM raw.freshservice_groups;

-- Tickets of one type resolved (4) without stats.resolved_at, or closed (5) without it or
-- stats.closed_at: staging takes the ticket's end from them, so no KPI counts it. One
-- data-quality row each (number, field, problem, value), for incidents and requests alike.
CREATE OR REPLACE TEMP MACRO freshservice_ended_without_time(ticket_type) AS TABLE
    SELECT
        record_key AS number,
        'stats.resolved_at' AS field,
        CASE record ->> '$.status'
            WHEN '4' THEN 'resolved without stats.resolved_at'
            ELSE 'closed without stats.resolved_at or stats.closed_at'
        END || ' (no end time: not counted)' AS problem,
        NULL AS value
    FROM raw.freshservice_tickets
    WHERE record ->> '$.type' = ticket_type
        AND record ->> '$.status' IN ('4', '5')
        AND record ->> '$.stats.resolved_at' IS NULL
        AND (record ->> '$.status' = '4' OR record ->> '$.stats.closed_at' IS NULL);
