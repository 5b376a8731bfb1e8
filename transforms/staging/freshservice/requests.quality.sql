-- Service-request values staging could not use, named by the ticket id. The values of every
-- ticket are checked in incidents.quality.sql; here, what only a request's staging decides.
-- Resolved (4) without stats.resolved_at, or closed (5) without it or stats.closed_at: the
-- request gets no fulfilment or closing time, so no KPI counts it.
WITH requests AS (
    SELECT record_key AS number, record
    FROM raw.freshservice_tickets
    WHERE record ->> '$.type' = 'Service Request'
)

SELECT
    'freshservice' AS source,
    'requests' AS table_name,
    number AS record_key,
    'stats.resolved_at' AS field,
    CASE record ->> '$.status'
        WHEN '4' THEN 'resolved without stats.resolved_at'
        ELSE 'closed without stats.resolved_at or stats.closed_at'
    END || ' (no end time: not counted)' AS problem,
    NULL AS value
FROM requests
WHERE record ->> '$.status' IN ('4', '5')
    AND record ->> '$.stats.resolved_at' IS NULL
    AND (record ->> '$.status' = '4' OR record ->> '$.stats.closed_at' IS NULL)
