-- Ticket values staging could not use, one row per ticket and field, named by the ticket id.
-- Every ticket is checked here, whichever core table its type sends it to, so a ticket of an
-- unknown type (neither Incident nor Service Request) is reported rather than silently dropped.
WITH tickets AS (
    SELECT record_key AS number, record FROM raw.freshservice_tickets
),

unparseable_times AS (
    SELECT * FROM freshservice_unparseable_times(
        'raw.freshservice_tickets',
        ['created_at', 'updated_at', 'due_by', 'fr_due_by', 'stats.resolved_at',
         'stats.closed_at', 'stats.first_responded_at']
    )
),

unknown_types AS (
    SELECT number, 'type' AS field, 'unknown ticket type (not staged)' AS problem,
           record ->> '$.type' AS value
    FROM tickets
    WHERE coalesce(record ->> '$.type', '') NOT IN ('Incident', 'Service Request')
),

unknown_statuses AS (
    SELECT number, 'status' AS field, 'unknown status code' AS problem,
           record ->> '$.status' AS value
    FROM tickets
    WHERE coalesce(record ->> '$.status', '') NOT IN ('2', '3', '4', '5')
),

unknown_priorities AS (
    SELECT number, 'priority' AS field, 'unknown priority code' AS problem,
           record ->> '$.priority' AS value
    FROM tickets
    WHERE record ->> '$.type' = 'Incident'
        AND coalesce(record ->> '$.priority', '')
            NOT IN (SELECT priority_code FROM freshservice_priorities())
),

resolved_before_created AS (
    SELECT number, 'stats.resolved_at' AS field,
           'resolved before created (resolved_at left empty)' AS problem,
           record ->> '$.stats.resolved_at' AS value
    FROM tickets
    WHERE instant(record ->> '$.stats.resolved_at')
        < instant(record ->> '$.created_at')
),

ended_without_time AS (
    SELECT * FROM freshservice_ended_without_time('Incident')
),

problems AS (
    SELECT * FROM unparseable_times
    UNION ALL SELECT * FROM unknown_types
    UNION ALL SELECT * FROM unknown_statuses
    UNION ALL SELECT * FROM unknown_priorities
    UNION ALL SELECT * FROM resolved_before_created
    UNION ALL SELECT * FROM ended_without_time
)

SELECT
    'freshservice' AS source,
    'incidents' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
