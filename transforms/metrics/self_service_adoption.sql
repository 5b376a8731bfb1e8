-- Tickets (incidents and requests) by the channel they were opened through.
WITH tickets AS (
    SELECT 'incident' AS record_table, incident_id AS record_id, opened_at, channel, service, source
    FROM core.incidents
    UNION ALL
    SELECT 'request' AS record_table, request_id AS record_id, opened_at, channel, service, source
    FROM core.requests
)
SELECT
    record_table,
    record_id,
    opened_at AS completed_at,
    service,
    source,
    1.0 AS num,
    1.0 AS den,
    list_contains(getvariable('self_service_channels'), lower(channel)) AS in_numerator,
    channel IS NOT NULL AS in_denominator,
    CASE WHEN channel IS NULL THEN 'excluded: channel unknown' END AS note
FROM tickets
WHERE opened_at IS NOT NULL
