-- Service-desk cost inputs over the tickets (incidents + requests) handled in the same period.
-- The runner gives a value only for a complete period whose days the cost inputs all cover
-- (numerator_covers_period in catalogue.yaml), so a month's cost entered before its tickets, or
-- costs that stop mid-quarter, never divide a whole period's cost by part of its tickets.
WITH cost_inputs AS (
    SELECT
        'measure' AS record_table,
        record_id,
        first_day AS local_day,
        last_day AS span_last,
        value AS num,
        true AS in_numerator,
        false AS in_denominator,
        source
    FROM measure_inputs
    WHERE metric_id = 'service_desk_cost' AND dimension = 'all'
),
tickets AS (
    SELECT 'incident' AS record_table, incident_id AS record_id, opened_at,
        coalesce(resolved_at, closed_at) AS completed_at, lower(state) AS state,
        coalesce(lower(state) NOT IN ('resolved', 'closed'), true) AS is_open, source
    FROM core.incidents
    UNION ALL
    SELECT 'request' AS record_table, request_id AS record_id, opened_at,
        coalesce(fulfilled_at, closed_at) AS completed_at, lower(state) AS state,
        false AS is_open, source
    FROM core.requests
),
tickets_judged AS (
    SELECT
        *,
        coalesce(list_contains(getvariable('cancelled_states'), state), false) AS is_cancelled
    FROM tickets
),
tickets_handled AS (
    SELECT
        record_table,
        record_id,
        CASE getvariable('ticket_basis') WHEN 'opened' THEN opened_at ELSE completed_at END AS completed_at,
        1.0 AS den,
        false AS in_numerator,
        CASE
            WHEN is_cancelled THEN false
            WHEN getvariable('ticket_basis') = 'completed' THEN NOT is_open
            ELSE true
        END AS in_denominator,
        CASE
            WHEN is_cancelled THEN 'excluded: cancelled'
            WHEN getvariable('ticket_basis') = 'completed' AND is_open
                THEN 'excluded: not resolved or closed (still open)'
        END AS note,
        source
    FROM tickets_judged
)
SELECT * FROM cost_inputs
UNION ALL BY NAME
SELECT * FROM tickets_handled
WHERE completed_at IS NOT NULL
