-- Resolved incidents, and whether each was resolved without being reassigned.
WITH resolved_incidents AS (
    SELECT
        *,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), state) THEN 'excluded: canceled'
            WHEN resolved_at IS NULL THEN 'excluded: closed without resolved_at'
            WHEN reassignment_count IS NULL THEN 'excluded: reassignment_count unknown'
        END AS exclusion
    FROM kpi.completed_incidents
)
SELECT
    'incident' AS record_table,
    incident_id AS record_id,
    completed_at,
    service,
    assignment_group,
    priority_label AS priority,
    source,
    1.0 AS num,
    1.0 AS den,
    exclusion IS NULL AND reassignment_count = 0 AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM resolved_incidents
